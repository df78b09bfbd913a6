import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pollUntil, runProcess, stackEnv } from '@sandbox-routing/testkit';
import { type EventOutcome, Pipeline } from '../../pipeline/pipeline';
import { killService, type ServiceProcess } from '../../pipeline/service-process';
import { REPO_ROOT, STACK_DIR } from '../../stack/paths';
import { stopService, up } from '../../stack/stack';

/**
 * The soak of the fault suite (`npm run test:faults`): a steady stream of events for every kind of key
 * while, one after the other, the baseline worker, the baseline ingress, the fork's ingress and a fork of
 * the Python payments service are killed (SIGKILL) and restarted, the broker and Temporal restart, the routeserver answers 500s, and
 * the sandbox is deleted (its pods go, both teardown commands run) and created again. The forked
 * sandbox is named `baseline` (a legal Signadot name), so every step also tells it from the baseline.
 * Every event must
 * complete exactly once, on its owner: the owner when it was published, or the baseline if its
 * sandbox did not exist at some moment between its publication and its completion.
 *
 * Bounded: the stream stops after the last fault, the last event gets a deadline, nothing runs longer.
 */
const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const env = { ROUTESERVER_REFRESH_INTERVAL_MS: '500', LOG_LEVEL: 'info' };
/**
 * Events per second per stream (three streams): below what one baseline ingress starts per second on a
 * busy 2-core machine, so a backlog built up during an outage drains before the next fault.
 */
const RATE = 2;
/** Upper bound of the run; the streams are stopped after the last fault, long before. */
const MAX_STREAM_SECONDS = 900;

/** Named `baseline`, as a sandbox may be: spelled `sandbox:baseline` in labels, results and process names. */
const FORKED = { name: 'baseline', label: 'sandbox:baseline', key: `ksoak${id}` };
/** Forks the order worker and the payments service, not the ingress. */
const WORKER_ONLY = { name: `soakw-${id}`, key: `ksoakw${id}` };

interface Stream {
  kind: 'none' | 'forked' | 'worker-only';
  child: ChildProcess;
  stdout: string;
  stderr: string;
  done: Promise<number | null>;
}

interface PublishSummary {
  sent: number;
  events: { id: string }[];
}

/** A producer CLI publishing RATE events/s for as long as it runs (it retries through broker restarts). */
function startStream(pipeline: Pipeline, kind: Stream['kind'], routingKey?: string): Stream {
  const args = [
    path.join(REPO_ROOT, 'producer/dist/cli.js'),
    'publish',
    '--json',
    '--count',
    String(RATE * MAX_STREAM_SECONDS),
    '--rate',
    String(RATE),
    '--id-prefix',
    `soak-${id}-${kind}`,
  ];
  if (routingKey) args.push('--routing-key', routingKey);
  // NODE_TEST_CONTEXT would make the child report to this test runner.
  const { NODE_TEST_CONTEXT: _testContext, ...inherited } = process.env;
  const child = spawn(process.execPath, args, {
    env: { ...inherited, KAFKA_BROKERS: stack.KAFKA_BROKERS, KAFKA_TOPIC: pipeline.topic, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stream: Stream = {
    kind,
    child,
    stdout: '',
    stderr: '',
    done: new Promise((resolve) => child.once('close', (code) => resolve(code))),
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    stream.stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stream.stderr += chunk.toString();
  });
  return stream;
}

describe('soak under faults', () => {
  let pipeline: Pipeline;
  const streams: Stream[] = [];
  const faults: string[] = [];
  /** When the forked sandbox did not exist: deleted at, created again at. */
  let gone: { from: number; to: number } | undefined;
  let teardownSummary = '';

  before(async () => {
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `faults-soak-${id}`), env);
    await pipeline.registerSandbox(FORKED.name, FORKED.key, ['ingress', 'worker']);
    // The second sandbox forks the order worker and the Python payments service (a workload of its own).
    await pipeline.registerSandbox(WORKER_ONLY.name, WORKER_ONLY.key, ['worker', 'payments']);
    await pipeline.startServices([
      { name: FORKED.name, forks: ['ingress', 'worker'] },
      { name: WORKER_ONLY.name, forks: ['worker', 'payments'] },
    ]);
  });

  after(async () => {
    for (const stream of streams) stream.child.kill('SIGKILL');
    await pipeline.routeserverFails(false).catch(() => undefined);
    await up(); // whatever happened, leave the stack whole
    await pipeline?.stop();
    await Promise.all([pipeline?.deleteSandbox(FORKED.name), pipeline?.deleteSandbox(WORKER_ONLY.name)]);
  });

  const service = (name: string): ServiceProcess => {
    const found = pipeline.services.find((s) => s.name === name);
    assert.ok(found, `${name} is running`);
    return found;
  };

  async function everyServiceReady(): Promise<void> {
    await pollUntil(
      async () => {
        for (const s of pipeline.services) {
          const response = await fetch(`${s.httpUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
          if (!response.ok) return false;
        }
        return true;
      },
      { description: 'every service to be ready again', timeoutMs: 180_000, intervalMs: 250 },
    );
  }

  /** Waits until the baseline ingress has handled `count` more events: the pipeline moves again. */
  async function progress(count = 15): Promise<void> {
    const ingress = service('ingress-baseline');
    const handled = () => pipeline.metric(ingress, 'sandbox_routing_ingress_events_total');
    const start = await handled();
    await pollUntil(async () => (await handled()) >= start + count, {
      description: `the baseline ingress to handle ${count} more events`,
      timeoutMs: 180_000,
      intervalMs: 250,
    });
  }

  async function fault(name: string, inject: () => Promise<void>): Promise<void> {
    faults.push(name);
    await inject();
    await everyServiceReady();
    await progress();
  }

  async function killAndRestart(name: string, restart: () => Promise<ServiceProcess>): Promise<void> {
    const victim = service(name);
    await killService(victim);
    pipeline.services.splice(pipeline.services.indexOf(victim), 1);
    await restart();
  }

  it('completes every event exactly once, on its owner', async () => {
    streams.push(
      startStream(pipeline, 'none'),
      startStream(pipeline, 'forked', FORKED.key),
      startStream(pipeline, 'worker-only', WORKER_ONLY.key),
    );
    await everyServiceReady();
    await progress();

    await fault('SIGKILL baseline worker', () =>
      killAndRestart('worker-baseline', () => pipeline.startWorker()),
    );
    await fault('SIGKILL baseline ingress', () =>
      killAndRestart('ingress-baseline', () => pipeline.startIngress()),
    );
    await fault("SIGKILL the fork's ingress", () =>
      killAndRestart(`ingress-${FORKED.label}`, () => pipeline.startIngress(FORKED.name)),
    );
    // Mid-charge, maybe: Temporal retries the activity on the restarted fork (the charge is idempotent).
    await fault('SIGKILL the payments fork', () =>
      killAndRestart(`payments-${WORKER_ONLY.name}`, () => pipeline.startPayments(WORKER_ONLY.name)),
    );
    await fault('broker restart', async () => {
      await stopService('kafka');
      await up();
    });
    await fault('Temporal restart', async () => {
      await stopService('temporal');
      await up();
    });
    await fault('routeserver answers 500', async () => {
      await pipeline.routeserverFails(true);
      // The route tables keep their last good rules meanwhile; the stream goes on.
      await progress();
      await pipeline.routeserverFails(false);
    });
    await fault('sandbox deleted and created again', async () => {
      await pipeline.deleteSandbox(FORKED.name);
      gone = { from: Date.now(), to: Number.POSITIVE_INFINITY };
      // Signadot removes the fork's pods, then the teardown commands run.
      for (const name of [`ingress-${FORKED.label}`, `worker-${FORKED.label}`])
        await pipeline.stopService(service(name));
      // The fence waits until the baseline has worked through what is ahead of it in every partition.
      const kafkaTeardown = await pipeline.teardownIngress(FORKED.name, '--fence-timeout', '300');
      assert.equal(kafkaTeardown.code, 0, kafkaTeardown.stderr);
      const teardownStarted = Date.now();
      const temporalTeardown = await runProcess(
        process.execPath,
        [
          path.join(REPO_ROOT, 'worker/dist/teardown.js'),
          '--sandbox',
          FORKED.name,
          '--action',
          'restart-on-baseline',
          // The soak checks that every event completes; a workflow whose activities already ran on the
          // fork runs them again (the sample's activities have no outside effect), so accept the repeat.
          '--if-activities-ran',
          'restart',
          '--json',
        ],
        {
          env: { TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE: pipeline.taskQueue },
          // The fork's unfinished backlog (dozens of runs) is restarted while the baseline catches up
          // on a loaded machine, where one restart can take half a second; bounded all the same.
          timeoutMs: 300_000,
        },
      );
      assert.equal(
        temporalTeardown.code,
        0,
        `worker teardown ended with ${temporalTeardown.code ?? temporalTeardown.signal}:\n${temporalTeardown.stdout}\n${temporalTeardown.stderr}`,
      );
      const outcomes = (
        JSON.parse(temporalTeardown.stdout) as {
          outcomes: { status: string; workflow: { alreadyRan: unknown[] } }[];
        }
      ).outcomes.filter((o) => o.status === 'restarted');
      const repeated = outcomes.filter((o) => o.workflow.alreadyRan.length > 0).length;
      teardownSummary = `worker teardown restarted ${outcomes.length} workflows (${repeated} of them had run activities, run again) in ${Date.now() - teardownStarted} ms`;
      await progress();
      await pipeline.registerSandbox(FORKED.name, FORKED.key, ['ingress', 'worker']);
      gone.to = Date.now();
      await pipeline.startWorker(FORKED.name);
      await pipeline.startIngress(FORKED.name);
    });

    // Stop the streams (after the batch in flight); each prints what it sent.
    for (const stream of streams) stream.child.kill('SIGTERM');
    const sent: { id: string; kind: Stream['kind'] }[] = [];
    for (const stream of streams) {
      const code = await stream.done;
      assert.ok(code === 143 || code === 0, `${stream.kind} stream exited with ${code}: ${stream.stderr}`);
      const summary = JSON.parse(stream.stdout) as PublishSummary;
      for (const event of summary.events) sent.push({ id: event.id, kind: stream.kind });
    }

    const outcomes = await pipeline.awaitOutcomes(
      sent.map((e) => e.id),
      300_000,
    );
    const misplaced: string[] = [];
    const window = gone ?? { from: 0, to: 0 };
    // A sandbox created again is seen by the route tables within about a second.
    const staleMs = 3000;
    for (const event of sent) {
      const outcome = outcomes.get(event.id) as EventOutcome;
      const placed = {
        ingestedBy: outcome.ingestedBy,
        ranOn: outcome.ranOn,
        activities: [...new Set(outcome.activitiesOn)],
        payments: outcome.paymentsOn,
      };
      const published = outcome.publishedAt ?? 0;
      const completed = outcome.completedAt ?? Number.POSITIVE_INFINITY;
      const sandboxMayBeGone = completed >= window.from && published <= window.to + staleMs;
      const owners =
        event.kind === 'none'
          ? [{ ingestedBy: 'baseline', ranOn: 'baseline' }]
          : event.kind === 'worker-only'
            ? [{ ingestedBy: 'baseline', ranOn: WORKER_ONLY.name }]
            : sandboxMayBeGone
              ? [
                  { ingestedBy: FORKED.label, ranOn: FORKED.label },
                  { ingestedBy: FORKED.label, ranOn: 'baseline' },
                  { ingestedBy: 'baseline', ranOn: 'baseline' },
                  { ingestedBy: 'baseline', ranOn: FORKED.label },
                ]
              : [{ ingestedBy: FORKED.label, ranOn: FORKED.label }];
      // Payments: the worker-only sandbox forks it too; the other keys charge on the baseline.
      const paymentsOwner = event.kind === 'worker-only' ? WORKER_ONLY.name : 'baseline';
      const onOwner =
        placed.payments === paymentsOwner &&
        owners.some(
          (o) =>
            o.ingestedBy === placed.ingestedBy &&
            o.ranOn === placed.ranOn &&
            placed.activities.every((a) => a === o.ranOn),
        );
      if (!onOwner) misplaced.push(`${event.id}: ${JSON.stringify(placed)}`);
    }

    // Duplicates: more than one completed run of an event's workflow.
    const completedRuns = new Map<string, number>();
    for await (const workflow of pipeline.temporal().workflow.list({
      query: `WorkflowId STARTS_WITH "evt-soak-${id}-" AND ExecutionStatus = "Completed"`,
    })) {
      completedRuns.set(workflow.workflowId, (completedRuns.get(workflow.workflowId) ?? 0) + 1);
    }
    const duplicates = [...completedRuns.values()].filter((n) => n > 1).length;
    const byKind = (kind: Stream['kind']) => sent.filter((e) => e.kind === kind).length;
    console.log(
      `soak: ${sent.length} events (no key ${byKind('none')}, forked sandbox ${byKind('forked')}, worker-only sandbox ${byKind('worker-only')}); ` +
        `${outcomes.size} completed, ${sent.length - outcomes.size} lost, ${duplicates} duplicates, ${misplaced.length} on a non-owner; ` +
        `faults: ${faults.join(', ')}; ${teardownSummary}`,
    );
    assert.equal(outcomes.size, sent.length, 'lost');
    assert.equal(duplicates, 0, 'duplicates');
    assert.deepEqual(misplaced.slice(0, 10), [], `${misplaced.length} on a non-owner`);
  });
});
