/**
 * A worker process for the benchmark's comparison rows (never deployed): the sample order domain's
 * workflows and activities (the same code the real worker runs) on one task queue, either
 *
 * - `plain`: no interceptors at all, the floor every routing approach is measured against; or
 * - `skip-retry`: the Python tutorial's approach, every worker on the shared queue failing the workflow
 *   tasks and activity attempts whose routing key is not its own (see skip-retry/).
 *
 *   node dev/dist/bench/bench-worker.js --mode skip-retry --queue Q --instance pr-1 --keys k1,k2
 *
 * The baseline's process also serves the payments workload (`chargePayment` on the `payments` queue,
 * which `processOrder` charges through), plainly: no sandbox forks payments in these rows, and its
 * baseline serves every key.
 *
 * Prints `ready` on stdout once polling; SIGTERM drains and exits.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BASELINE_LABEL } from '@sandbox-routing/core';
import { SAMPLE_TASK_QUEUES } from '@sandbox-routing/sample';
import { routingKeyFromTemporalHeaders } from '@sandbox-routing/temporal';
import { createOrderActivities, type PaymentActivities } from '@sandbox-routing/worker';
import { type Context as ActivityContext, activityInfo } from '@temporalio/activity';
import {
  type ActivityExecuteInput,
  type ActivityInboundCallsInterceptor,
  DefaultLogger,
  NativeConnection,
  type Next,
  Runtime,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { Command } from 'commander';
import { runBench } from './run';
import { ownsKey, type SkipRetryPolicy } from './skip-retry/policy';

interface Flags {
  mode: 'plain' | 'skip-retry';
  queue: string;
  instance: string;
  keys: string;
}

/** Fails an activity attempt whose key is not this worker's: Temporal retries it after its back-off. */
function skipActivities(policy: SkipRetryPolicy) {
  return (_ctx: ActivityContext) => ({
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
        const key = routingKeyFromTemporalHeaders(input.headers)?.key;
        if (!ownsKey(policy, key))
          throw new Error(`skip: key ${key ?? '(none)'} is not ${policy.instance}'s`);
        return next(input);
      },
    },
  });
}

/** The payments baseline's charge, as the Python service answers it (no fee), without any routing. */
const plainPayments: PaymentActivities = {
  async chargePayment(request) {
    return {
      chargeId: `ch-${request.eventId}`,
      chargedCents: request.amountCents,
      feeCents: 0,
      report: {
        name: 'chargePayment',
        instance: BASELINE_LABEL,
        taskQueue: activityInfo().taskQueue,
        routingKey: null,
      },
    };
  },
};

async function main(flags: Flags): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const connection = await NativeConnection.connect({
    address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  });
  const variant = flags.instance === BASELINE_LABEL ? 'standard' : 'v2';
  const options: WorkerOptions = {
    connection,
    taskQueue: flags.queue,
    identity: `${flags.instance}@bench:${process.pid}`,
    workflowsPath: require.resolve('@sandbox-routing/worker/dist/workflows'),
    activities: createOrderActivities({ instance: flags.instance, variant }),
  };
  let policyDir: string | undefined;
  if (flags.mode === 'skip-retry') {
    const policy: SkipRetryPolicy = { instance: flags.instance, keys: flags.keys.split(',').filter(Boolean) };
    // The workflow sandbox cannot read files or ask the routeserver: the policy becomes a module.
    policyDir = mkdtempSync(path.join(tmpdir(), 'skip-retry-'));
    const policyModule = path.join(policyDir, 'policy.js');
    writeFileSync(policyModule, `module.exports = ${JSON.stringify(policy)};\n`);
    options.interceptors = {
      workflowModules: [require.resolve('./skip-retry/workflow-interceptors')],
      activity: [skipActivities(policy)],
    };
    options.bundlerOptions = {
      webpackConfigHook: (config) => ({
        ...config,
        resolve: {
          ...config.resolve,
          alias: { ...(config.resolve?.alias as Record<string, string>), 'skip-retry-policy$': policyModule },
        },
      }),
    };
  }
  const workers = [await Worker.create(options)];
  if (flags.instance === BASELINE_LABEL) {
    workers.push(
      await Worker.create({
        connection,
        taskQueue: SAMPLE_TASK_QUEUES.payments,
        identity: `payments@bench:${process.pid}`,
        activities: plainPayments,
      }),
    );
  }
  process.once('SIGTERM', () => {
    for (const worker of workers) worker.shutdown();
  });
  const running = Promise.all(workers.map((worker) => worker.run()));
  console.log('ready');
  try {
    await running;
  } finally {
    await connection.close();
    if (policyDir) rmSync(policyDir, { recursive: true, force: true });
  }
}

runBench(
  new Command()
    .name('bench-worker')
    .requiredOption('--mode <mode>', 'plain or skip-retry')
    .requiredOption('--queue <queue>', 'task queue to poll')
    .option('--instance <label>', 'baseline or the sandbox name', BASELINE_LABEL)
    .option(
      '--keys <keys>',
      "skip-retry: the sandbox's keys (sandbox) or every sandbox's keys (baseline)",
      '',
    )
    .action((flags: Flags) => main(flags)),
);
