/**
 * The compiled worker against the real local stack: a baseline and a sandboxed worker process (the
 * sandbox runs the `v2` variant, from a prebuilt workflow bundle as the image does, with the trail
 * off), workflows started with and without door routing, metrics, sandbox teardown with the CLI, and a
 * clean SIGTERM shutdown.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RouteTable, runWithRoutingKey, sandboxTaskQueue, silentLogger } from '@sandbox-routing/core';
import { createEvent, type PipelineEvent } from '@sandbox-routing/sample';
import { startRouteTable } from '@sandbox-routing/service-kit';
import { ROUTING_WORKFLOW_INTERCEPTORS, RoutingClientInterceptor } from '@sandbox-routing/temporal';
import { PaymentsService, pollUntil, runHistories, stackEnv } from '@sandbox-routing/testkit';
import { activityInfo } from '@temporalio/activity';
import {
  Client,
  Connection,
  defaultPayloadConverter,
  type HistoryAndWorkflowId,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createOrderActivities } from '../activities';
import type { ApprovalReceipt, ApprovalResult, OrderResult } from '../order';
import type { TeardownReport } from '../sandbox-teardown';
import { buildBundle, runTeardown, WorkerProcess } from './worker-process';

const env = stackEnv();
const SHARED_QUEUE = `worker-it-${randomUUID().slice(0, 8)}`;
const SANDBOX = `wk-${randomUUID().slice(0, 8)}`;
const SANDBOX_QUEUE = sandboxTaskQueue(SHARED_QUEUE, SANDBOX);
const KEY = `kw${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const WORKER_BASELINE = { kind: 'Deployment', namespace: 'local', name: 'worker' };
const GRACE_MS = 5000;
/** Bundling the workflow code takes a few seconds; a loaded CI machine may need more. */
const READY_TIMEOUT_MS = 90_000;
const TWO_LINES = { items: [{ sku: 'widget', quantity: 2, unitPriceCents: 1250 }] };

const workerEnv = {
  TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS,
  TEMPORAL_TASK_QUEUE: SHARED_QUEUE,
  SIGNADOT_ROUTESERVER_URL: env.SIGNADOT_ROUTESERVER_URL,
  SIGNADOT_ROUTESERVER_GRPC_ADDRESS: env.SIGNADOT_ROUTESERVER_GRPC_ADDRESS,
  ROUTESERVER_REFRESH_INTERVAL_MS: '200',
  ROUTESERVER_UNKNOWN_KEY_REFETCH_INTERVAL_MS: '100',
  WORKER_SHUTDOWN_GRACE_MS: String(GRACE_MS),
  LOG_LEVEL: 'info',
};
const cliEnv = { TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE: SHARED_QUEUE };

async function standIn(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${env.SIGNADOT_ROUTESERVER_URL}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status >= 400 && !(method === 'DELETE' && response.status === 404)) {
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  }
}

/** The value of the decision counter for the given labels, 0 when absent. */
function decisionCount(metrics: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([name, value]) => `${name}="${value}"`);
  let total = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('sandbox_routing_temporal_decisions_total{')) continue;
    if (wanted.every((pair) => line.includes(pair))) total += Number(line.split(' ').at(-1));
  }
  return total;
}

/**
 * The workflow and its own activities ran on `instance` (`taskQueue`); the charge went to the payments
 * service's baseline (no sandbox here forks payments), which saw the same key.
 */
function assertRanOn(result: OrderResult, instance: string, taskQueue: string): void {
  assert.deepEqual(result.workflow, { instance, taskQueue }, 'workflow placement');
  assert.deepEqual(
    result.activities.map((a) => a.name),
    ['reserveInventory', 'priceOrder', 'chargePayment', 'sendConfirmation'],
  );
  for (const activity of result.activities) {
    const [expectedInstance, expectedQueue] =
      activity.name === 'chargePayment' ? ['baseline', 'payments'] : [instance, taskQueue];
    assert.equal(activity.instance, expectedInstance, `${activity.name} ran on ${activity.instance}`);
    assert.equal(activity.taskQueue, expectedQueue, `${activity.name} ran on queue ${activity.taskQueue}`);
    assert.equal(activity.routingKey, result.routingKey, `${activity.name} saw key ${activity.routingKey}`);
  }
}

describe('worker processes: baseline and sandbox (v2)', () => {
  let baseline: WorkerProcess;
  let sandbox: WorkerProcess;
  /** The payments service: processOrder charges every order through it. */
  let payments: PaymentsService;
  let connection: Connection;
  let doorClient: Client;
  let plainClient: Client;
  let doorRoutes: RouteTable;
  /** processOrder runs, replayed at the end. */
  const recorded: string[] = [];
  const bundleDir = mkdtempSync(path.join(tmpdir(), 'workflow-bundle-'));

  before(async () => {
    // Quiet replay workers (webpack stats at INFO otherwise fill the test output).
    Runtime.install({ logger: new DefaultLogger('WARN') });
    await standIn('PUT', `/admin/sandboxes/${SANDBOX}`, { routingKey: KEY, forks: [WORKER_BASELINE] });
    // The fork starts as the image's worker does: from the bundle built ahead of time.
    const bundle = path.join(bundleDir, 'workflows.js');
    const built = await buildBundle(bundle);
    assert.equal(built.code, 0, built.stderr);
    payments = await PaymentsService.start({ temporalAddress: env.TEMPORAL_ADDRESS });
    [baseline, sandbox] = await Promise.all([
      WorkerProcess.start(workerEnv),
      WorkerProcess.start({
        ...workerEnv,
        SIGNADOT_SANDBOX_NAME: SANDBOX,
        WORKER_VARIANT: 'v2',
        WORKER_WORKFLOW_BUNDLE: bundle,
        TRAIL_ENABLED: 'false',
      }),
    ]);
    await Promise.all([baseline.waitReady(READY_TIMEOUT_MS), sandbox.waitReady(READY_TIMEOUT_MS)]);
    doorRoutes = startRouteTable(
      {
        url: env.SIGNADOT_ROUTESERVER_URL,
        grpcAddress: env.SIGNADOT_ROUTESERVER_GRPC_ADDRESS,
        refreshIntervalMs: 200,
        requestTimeoutMs: 1000,
        firstSyncTimeoutMs: 10_000,
        unknownKeyRefetchIntervalMs: 100,
        neverSyncedPolicy: 'default',
      },
      WORKER_BASELINE,
      // Explicit: startRouteTable passes `logger: undefined` through, which overrides the table's default.
      silentLogger,
    );
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    doorClient = new Client({
      connection,
      interceptors: {
        workflow: [
          new RoutingClientInterceptor({
            doorRouting: { routeTable: doorRoutes, sharedQueue: SHARED_QUEUE },
          }),
        ],
      },
    });
    plainClient = new Client({ connection, interceptors: { workflow: [new RoutingClientInterceptor()] } });
  });

  after(async () => {
    await Promise.all([baseline?.kill(), sandbox?.kill(), payments?.stop()]);
    await doorRoutes?.stop();
    await connection?.close();
    await standIn('DELETE', `/admin/sandboxes/${SANDBOX}`);
    rmSync(bundleDir, { recursive: true, force: true });
  });

  /** Starts `processOrder` as the ingress does (id `evt-<event id>`, args `[event]`) and awaits it. */
  async function processOrder(client: Client, event: PipelineEvent, key?: string): Promise<OrderResult> {
    const workflowId = `evt-${event.id}`;
    const start = () =>
      client.workflow.execute('processOrder', { taskQueue: SHARED_QUEUE, workflowId, args: [event] });
    const result = (await (key ? runWithRoutingKey(key, start) : start())) as OrderResult;
    recorded.push(workflowId);
    return result;
  }

  it('door routing: an event without a key runs entirely on the baseline, priced standard', async () => {
    const event = createEvent('order.created', TWO_LINES);
    const result = await processOrder(doorClient, event);
    assertRanOn(result, 'baseline', SHARED_QUEUE);
    assert.equal(result.routingKey, null);
    assert.equal(result.eventId, event.id);
    assert.deepEqual(
      [result.pricing, result.subtotalCents, result.discountCents, result.totalCents],
      ['standard', 2500, 0, 2500],
    );
  });

  it("door routing: an event with the sandbox's key runs entirely on the sandbox, priced v2", async () => {
    const result = await processOrder(doorClient, createEvent('order.created', TWO_LINES), KEY);
    assertRanOn(result, SANDBOX, SANDBOX_QUEUE);
    assert.equal(result.routingKey, KEY);
    assert.deepEqual(
      [result.pricing, result.subtotalCents, result.discountCents, result.totalCents],
      ['v2-discount', 2500, 250, 2250],
    );
    assert.match(result.confirmation, /10% v2 discount/);
  });

  it('without door routing: a keyed workflow started on the shared queue is redirected to the sandbox', async () => {
    const event = createEvent('order.created', {});
    const result = await processOrder(plainClient, event, KEY);
    assertRanOn(result, SANDBOX, SANDBOX_QUEUE);
    assert.equal(result.pricing, 'v2-discount');
    const redirect = baseline
      .logs('routing decision')
      .find((line) => line.workflowId === `evt-${event.id}` && line.component === 'workflow-redirect');
    assert.equal(redirect?.action, 'redirect', baseline.tail());
    assert.equal(redirect?.routingKey, KEY);
    assert.equal(redirect?.owner, SANDBOX);
    assert.equal(redirect?.taskQueue, SANDBOX_QUEUE);
  });

  it('without door routing: an event without a key stays on the baseline', async () => {
    const result = await processOrder(plainClient, createEvent('order.created', {}));
    assertRanOn(result, 'baseline', SHARED_QUEUE);
    assert.deepEqual([result.pricing, result.totalCents], ['standard', 1999]);
  });

  it('a key that is present but refused is logged once with the reason and counted; the workflow runs keyless', async () => {
    const refusing = new Client({
      connection,
      interceptors: {
        workflow: [
          {
            // As an OpenTelemetry client with a malformed key in its baggage would send it.
            startWithDetails: (input, next) =>
              next({
                ...input,
                headers: {
                  ...input.headers,
                  '_tracer-data': defaultPayloadConverter.toPayload({ baggage: 'sd-routing-key=a%20b' }),
                },
              }),
          },
        ],
      },
    });
    const event = createEvent('order.created', {});
    const workflowId = `evt-${event.id}`;
    const result = (await refusing.workflow.execute('processOrder', {
      taskQueue: SHARED_QUEUE,
      workflowId,
      args: [event],
    })) as OrderResult;
    assertRanOn(result, 'baseline', SHARED_QUEUE);
    assert.equal(result.routingKey, null);
    const refusals = baseline
      .logs('routing decision')
      .filter((line) => line.workflowId === workflowId && line.action === 'key-refused');
    assert.equal(refusals.length, 1, baseline.tail());
    assert.equal(refusals[0]?.carrier, 'tracer-data');
    assert.match(String(refusals[0]?.reason), /"a b" \(length 3\) is not a routing key/);
    assert.ok(decisionCount(await baseline.metrics(), { component: 'workflow', action: 'key-refused' }) >= 1);
  });

  it('/metrics exposes the routing decision counter of each instance', async () => {
    const [baselineMetrics, sandboxMetrics] = await Promise.all([baseline.metrics(), sandbox.metrics()]);
    assert.ok(
      decisionCount(baselineMetrics, {
        component: 'workflow-redirect',
        action: 'redirect',
        owner: SANDBOX,
        instance: 'baseline',
      }) >= 1,
      baselineMetrics,
    );
    assert.ok(
      decisionCount(baselineMetrics, { component: 'activity', action: 'owned', owner: 'baseline' }) >= 6,
    );
    assert.ok(
      decisionCount(sandboxMetrics, {
        component: 'activity',
        action: 'owned',
        owner: SANDBOX,
        instance: SANDBOX,
      }) >= 6,
    );
    assert.equal(decisionCount(baselineMetrics, { action: 'mismatch' }), 0);
    assert.equal(decisionCount(sandboxMetrics, { action: 'mismatch' }), 0);
    assert.match(baselineMetrics, /sandbox_routing_route_table_age_seconds\{[^}]*table="worker"/);
  });

  it('approve by update: awaitApproval started by a plain client is redirected and the update handled by the sandbox', async () => {
    const workflowId = `evt-approve-update-${randomUUID()}`;
    const event = createEvent('order.approval-requested', TWO_LINES);
    const handle = await runWithRoutingKey(KEY, () =>
      plainClient.workflow.start('awaitApproval', { taskQueue: SHARED_QUEUE, workflowId, args: [event] }),
    );
    // Sent at once: it reaches the first run on the baseline, which neither accepts nor rejects it.
    const byUpdate = plainClient.workflow.getHandle(workflowId);
    const receipt = (await byUpdate.executeUpdate('approveOrder', {
      args: [{ approvedBy: 'ana' }],
    })) as ApprovalReceipt;
    assert.deepEqual(receipt, {
      approvedBy: 'ana',
      first: true,
      workflow: { instance: SANDBOX, taskQueue: SANDBOX_QUEUE },
    });
    await assert.rejects(
      byUpdate.executeUpdate('approveOrder', { args: [{ approvedBy: '' }] }),
      (error: unknown) =>
        error instanceof WorkflowUpdateFailedError && /approvedBy must be/.test(String(error.cause?.message)),
    );
    const result = (await handle.result()) as ApprovalResult;
    assertRanOn(result, SANDBOX, SANDBOX_QUEUE);
    assert.equal(result.approvedBy, 'ana');
    assert.deepEqual(result.approvals, [{ approvedBy: 'ana', via: 'update' }]);
  });

  it('teardown: lists, restarts on the baseline and terminates the workflows a deleted sandbox left', async () => {
    const restartId = `evt-approve-${randomUUID()}`;
    const terminateId = `evt-approve-${randomUUID()}`;
    const events = new Map<string, PipelineEvent>();
    for (const workflowId of [restartId, terminateId]) {
      const event = createEvent('order.approval-requested', TWO_LINES);
      events.set(workflowId, event);
      await runWithRoutingKey(KEY, () =>
        doorClient.workflow.start('awaitApproval', {
          taskQueue: SHARED_QUEUE,
          workflowId,
          args: [event],
          memo: { ingestedBy: 'worker-integration-test', routingKey: KEY },
        }),
      );
      // A query needs a worker to answer: the sandbox's worker has picked the workflow up.
      await pollUntil(
        async () => (await doorClient.workflow.getHandle(workflowId).query('approvalStatus')) === 'waiting',
        { description: `${workflowId} waiting on the sandbox`, timeoutMs: 20_000 },
      );
      assert.equal((await doorClient.workflow.getHandle(workflowId).describe()).taskQueue, SANDBOX_QUEUE);
    }
    await standIn('DELETE', `/admin/sandboxes/${SANDBOX}`);

    const listed = await pollUntil(
      async () => {
        const run = await runTeardown(['--sandbox', SANDBOX, '--json'], cliEnv);
        assert.equal(run.code, 0, run.stderr);
        const report = JSON.parse(run.stdout) as TeardownReport;
        return report.outcomes.length === 2 ? report : undefined;
      },
      {
        description: 'teardown to list both workflows (visibility is eventually consistent)',
        timeoutMs: 20_000,
      },
    );
    assert.equal(listed.taskQueue, SANDBOX_QUEUE);
    assert.deepEqual(
      listed.outcomes.map((o) => o.workflow.workflowId).sort(),
      [restartId, terminateId].sort(),
    );
    assert.ok(listed.outcomes.every((o) => o.status === 'open' && o.workflow.type === 'awaitApproval'));
    const originalRunId = listed.outcomes.find((o) => o.workflow.workflowId === restartId)?.workflow.runId;

    const text = await runTeardown(['--sandbox', SANDBOX], cliEnv);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`2 open workflow\\(s\\) on task queue ${SANDBOX_QUEUE}`));

    const dryRun = await runTeardown(
      [
        '--sandbox',
        SANDBOX,
        '--action',
        'restart-on-baseline',
        '--workflow-id',
        restartId,
        '--dry-run',
        '--json',
      ],
      cliEnv,
    );
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.deepEqual(
      (JSON.parse(dryRun.stdout) as TeardownReport).outcomes.map((o) => o.status),
      ['would-restart'],
    );
    assert.equal((await doorClient.workflow.getHandle(restartId).describe()).runId, originalRunId);

    const restart = await runTeardown(
      ['--sandbox', SANDBOX, '--action', 'restart-on-baseline', '--workflow-id', restartId, '--json'],
      cliEnv,
    );
    assert.equal(restart.code, 0, `${restart.stdout}\n${restart.stderr}`);
    const restarted = (JSON.parse(restart.stdout) as TeardownReport).outcomes;
    assert.equal(restarted.length, 1);
    assert.equal(restarted[0]?.status, 'restarted', restarted[0]?.detail);
    const handle = doorClient.workflow.getHandle(restartId);
    const description = await handle.describe();
    assert.equal(description.runId, restarted[0]?.newRunId);
    assert.equal(description.taskQueue, SHARED_QUEUE);
    assert.deepEqual(description.memo, { ingestedBy: 'worker-integration-test', routingKey: KEY });
    // One start with TERMINATE_EXISTING replaced the old run: it ended terminated, by the server.
    const original = await doorClient.workflow.getHandle(restartId, originalRunId).fetchHistory();
    assert.ok(
      original.events?.at(-1)?.workflowExecutionTerminatedEventAttributes,
      'the old run was terminated',
    );

    await handle.signal('approve', { approvedBy: 'tester' });
    const result = (await handle.result()) as ApprovalResult;
    assertRanOn(result, 'baseline', SHARED_QUEUE);
    assert.equal(result.routingKey, KEY, 'the restarted run kept its routing key');
    assert.equal(result.eventId, events.get(restartId)?.id, 'the restarted run got the same input');
    assert.equal(result.approvedBy, 'tester');
    assert.deepEqual(result.approvals, [{ approvedBy: 'tester', via: 'signal' }]);
    assert.equal(result.pricing, 'standard');

    const terminate = await runTeardown(
      ['--sandbox', SANDBOX, '--action', 'terminate', '--workflow-id', terminateId],
      cliEnv,
    );
    assert.equal(terminate.code, 0, terminate.stderr);
    assert.match(terminate.stdout, new RegExp(`${terminateId} .* terminated`));
    const other = await doorClient.workflow.getHandle(terminateId).describe();
    assert.equal(other.status.name, 'TERMINATED');

    await pollUntil(
      async () => {
        const run = await runTeardown(['--sandbox', SANDBOX, '--json'], cliEnv);
        return (JSON.parse(run.stdout) as TeardownReport).outcomes.length === 0;
      },
      { description: 'the sandbox to have no open workflows left', timeoutMs: 20_000 },
    );
  });

  it('teardown: restarts many pinned workflows a few at a time, oldest first, memo kept', async () => {
    // A sandbox no worker polls: workflows started straight on its queue stay there, as they do when
    // the sandbox's worker is gone.
    const gone = `wkm-${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const workflowId = `evt-many-${gone}-${i}`;
      await plainClient.workflow.start('awaitApproval', {
        taskQueue: sandboxTaskQueue(SHARED_QUEUE, gone),
        workflowId,
        args: [createEvent('order.approval-requested', TWO_LINES)],
        memo: { ingestedBy: 'worker-integration-test', index: i },
      });
      ids.push(workflowId);
    }
    await pollUntil(
      async () => {
        const run = await runTeardown(['--sandbox', gone, '--json'], cliEnv);
        return (JSON.parse(run.stdout) as TeardownReport).outcomes.length === ids.length;
      },
      { description: 'teardown to list all 12 (visibility is eventually consistent)', timeoutMs: 20_000 },
    );

    const run = await runTeardown(
      ['--sandbox', gone, '--action', 'restart-on-baseline', '--concurrency', '4', '--json'],
      cliEnv,
    );
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const outcomes = (JSON.parse(run.stdout) as TeardownReport).outcomes;
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ids.map(() => 'restarted'),
      JSON.stringify(outcomes.filter((o) => o.status !== 'restarted')),
    );
    const startTimes = outcomes.map((o) => o.workflow.startTime);
    assert.deepEqual(startTimes, [...startTimes].sort(), 'reported oldest first');
    for (const [i, workflowId] of ids.entries()) {
      const description = await plainClient.workflow.getHandle(workflowId).describe();
      assert.equal(description.taskQueue, SHARED_QUEUE, `${workflowId} is on the shared queue`);
      assert.deepEqual(description.memo, { ingestedBy: 'worker-integration-test', index: i });
      await plainClient.workflow.getHandle(workflowId).terminate('test done');
    }
  });

  it('teardown: a workflow whose activities already ran on the sandbox is not run again unless asked; it is listed with what ran', async () => {
    // The fork's worker dies after every activity of two orders ran and before their workflow code ran
    // again: in process, a workflow-only and an activity-only worker on the sandbox's queue; the last
    // activity stops the workflow half before it returns.
    const gone = `wkr-${randomUUID().slice(0, 8)}`;
    const queue = sandboxTaskQueue(SHARED_QUEUE, gone);
    const heldIds = [0, 1].map((i) => `evt-ran-${gone}-${i}`);
    const freshId = `evt-fresh-${gone}`;
    const native = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
    const workflowWorker = await Worker.create({
      connection: native,
      taskQueue: queue,
      workflowsPath: require.resolve('../workflows'),
    });
    const workflowRun = workflowWorker.run();
    const real = createOrderActivities({ instance: gone, variant: 'v2' });
    const confirmationsOnSandbox: string[] = [];
    let arrived = 0;
    let releaseConfirmations = () => {};
    const allArrived = new Promise<void>((resolve) => {
      releaseConfirmations = resolve;
    });
    const activityWorker = await Worker.create({
      connection: native,
      taskQueue: queue,
      activities: {
        ...real,
        async sendConfirmation(input: Parameters<typeof real.sendConfirmation>[0]) {
          const confirmation = await real.sendConfirmation(input);
          if (++arrived === heldIds.length) {
            workflowWorker.shutdown();
            await workflowRun;
            releaseConfirmations();
          }
          await allArrived;
          confirmationsOnSandbox.push(activityInfo().workflowExecution?.workflowId ?? 'unknown');
          return confirmation;
        },
      },
    });
    const activityRun = activityWorker.run();
    const originalRuns = new Map<string, string>();
    try {
      // One workflow that ran nothing yet: it waits for an approval.
      const fresh = await plainClient.workflow.start('awaitApproval', {
        taskQueue: queue,
        workflowId: freshId,
        args: [createEvent('order.approval-requested', TWO_LINES)],
      });
      originalRuns.set(freshId, fresh.firstExecutionRunId);
      await pollUntil(async () => (await fresh.query('approvalStatus')) === 'waiting', {
        description: `${freshId} waiting on the sandbox`,
        timeoutMs: 20_000,
      });
      for (const workflowId of heldIds) {
        const held = await plainClient.workflow.start('processOrder', {
          taskQueue: queue,
          workflowId,
          args: [createEvent('order.created', TWO_LINES)],
        });
        originalRuns.set(workflowId, held.firstExecutionRunId);
      }
      await pollUntil(
        async () => {
          for (const workflowId of heldIds) {
            const history = await plainClient.workflow.getHandle(workflowId).fetchHistory();
            const completed = history.events?.filter((e) => e.activityTaskCompletedEventAttributes) ?? [];
            if (completed.length < 4) return false;
          }
          return true;
        },
        { description: 'all four activities of both orders to complete', timeoutMs: 30_000 },
      );
    } finally {
      workflowWorker.getState() === 'RUNNING' && workflowWorker.shutdown();
      activityWorker.shutdown();
      await Promise.all([workflowRun, activityRun]);
      await native.close();
    }
    assert.deepEqual(confirmationsOnSandbox.length, 2, 'each order was confirmed once, on the sandbox');
    for (const workflowId of heldIds) {
      const description = await plainClient.workflow.getHandle(workflowId).describe();
      assert.equal(description.status.name, 'RUNNING', `${workflowId} waits for its next workflow task`);
    }
    await pollUntil(
      async () => {
        const run = await runTeardown(['--sandbox', gone, '--json'], cliEnv);
        return (JSON.parse(run.stdout) as TeardownReport).outcomes.length === 3;
      },
      { description: 'teardown to list the three (visibility is eventually consistent)', timeoutMs: 20_000 },
    );

    // The teardown as the issue ran it: restart everything on the baseline.
    const restart = await runTeardown(
      ['--sandbox', gone, '--action', 'restart-on-baseline', '--json'],
      cliEnv,
    );
    const restartReport = JSON.parse(restart.stdout) as TeardownReport;
    for (const workflowId of heldIds) {
      const handle = plainClient.workflow.getHandle(workflowId);
      if ((await handle.describe()).runId !== originalRuns.get(workflowId)) {
        const rerun = (await handle.result()) as OrderResult;
        assert.fail(
          `${workflowId} was restarted and ran again from the start on ${rerun.workflow.instance}: ${rerun.activities
            .map((a) => `${a.name}@${a.instance}`)
            .join(', ')}; its confirmation was sent twice`,
        );
      }
    }
    assert.equal(
      restart.code,
      3,
      `exit 3: workflows left for a decision\n${restart.stdout}\n${restart.stderr}`,
    );
    const statusOf = (report: TeardownReport) =>
      Object.fromEntries(report.outcomes.map((o) => [o.workflow.workflowId, o.status]));
    assert.deepEqual(statusOf(restartReport), {
      [freshId]: 'restarted',
      [heldIds[0] as string]: 'needs-decision',
      [heldIds[1] as string]: 'needs-decision',
    });
    assert.equal(restartReport.needsDecision, 2);
    const freshNow = await plainClient.workflow.getHandle(freshId).describe();
    assert.equal(
      freshNow.taskQueue,
      SHARED_QUEUE,
      'the workflow that ran nothing was restarted on the baseline',
    );

    // What is left shows what ran, in the listing and the dry run, as JSON and as text.
    const listed = await pollUntil(
      async () => {
        const run = await runTeardown(['--sandbox', gone, '--json'], cliEnv);
        const report = JSON.parse(run.stdout) as TeardownReport;
        return report.outcomes.length === 2 ? report : undefined;
      },
      { description: 'the listing to drop the restarted workflow', timeoutMs: 20_000 },
    );
    for (const { workflow } of listed.outcomes) {
      assert.deepEqual(
        workflow.alreadyRan.map((step) => [step.kind, step.type, step.outcome]),
        [
          ['activity', 'reserveInventory', 'completed'],
          ['activity', 'priceOrder', 'completed'],
          ['activity', 'chargePayment', 'completed'],
          ['activity', 'sendConfirmation', 'completed'],
        ],
        workflow.workflowId,
      );
      for (const step of workflow.alreadyRan)
        assert.ok(Date.parse(step.at ?? '') >= Date.parse(workflow.startTime));
      assert.equal(workflow.awaits, 'workflow-task');
    }
    const text = await runTeardown(['--sandbox', gone], cliEnv);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /activity sendConfirmation completed \d{4}-\d\d-\d\dT/);
    const dryRun = await runTeardown(
      ['--sandbox', gone, '--action', 'restart-on-baseline', '--dry-run', '--json'],
      cliEnv,
    );
    assert.equal(dryRun.code, 3, dryRun.stderr);
    assert.deepEqual(Object.values(statusOf(JSON.parse(dryRun.stdout) as TeardownReport)), [
      'needs-decision',
      'needs-decision',
    ]);
    const dryRunText = await runTeardown(
      ['--sandbox', gone, '--action', 'restart-on-baseline', '--dry-run'],
      cliEnv,
    );
    assert.match(dryRunText.stdout, /needs-decision/);
    assert.match(dryRunText.stdout, /--if-activities-ran restart/, 'the text says how to decide');

    // Decided: one is restarted, accepting that its activities run again; the other is terminated.
    const [repeatId, terminateId] = heldIds as [string, string];
    const repeat = await runTeardown(
      [
        '--sandbox',
        gone,
        '--action',
        'restart-on-baseline',
        '--if-activities-ran',
        'restart',
        '--workflow-id',
        repeatId,
        '--json',
      ],
      cliEnv,
    );
    assert.equal(repeat.code, 0, `${repeat.stdout}\n${repeat.stderr}`);
    assert.deepEqual(Object.values(statusOf(JSON.parse(repeat.stdout) as TeardownReport)), ['restarted']);
    const rerun = (await plainClient.workflow.getHandle(repeatId).result()) as OrderResult;
    assertRanOn(rerun, 'baseline', SHARED_QUEUE);
    assert.deepEqual(
      confirmationsOnSandbox.filter((id) => id === repeatId).length,
      1,
      'sent once on the sandbox, and again by the restart, as asked',
    );
    const terminate = await runTeardown(
      [
        '--sandbox',
        gone,
        '--action',
        'restart-on-baseline',
        '--if-activities-ran',
        'terminate',
        '--workflow-id',
        terminateId,
        '--json',
      ],
      cliEnv,
    );
    assert.equal(terminate.code, 0, `${terminate.stdout}\n${terminate.stderr}`);
    assert.deepEqual(Object.values(statusOf(JSON.parse(terminate.stdout) as TeardownReport)), ['terminated']);
    assert.equal((await plainClient.workflow.getHandle(terminateId).describe()).status.name, 'TERMINATED');
    await plainClient.workflow.getHandle(freshId).terminate('test done');
  });

  it('replays the recorded processOrder histories deterministically', async () => {
    assert.ok(recorded.length >= 4);
    const histories: HistoryAndWorkflowId[] = [];
    // Every run of the chain, including the first run that the redirect ended by continue-as-new.
    for (const workflowId of recorded) histories.push(...(await runHistories(plainClient, workflowId)));
    assert.ok(histories.length > recorded.length, 'the redirected workflow has two runs');
    const replays = Worker.runReplayHistories(
      {
        workflowsPath: require.resolve('../workflows'),
        interceptors: { workflowModules: [ROUTING_WORKFLOW_INTERCEPTORS] },
      },
      histories,
    );
    for await (const replay of replays)
      assert.equal(replay.error, undefined, `${replay.workflowId}: ${replay.error}`);
  });

  it('the fork ran everything from the prebuilt bundle (its interceptors inside, no warning about them or the trail sink)', () => {
    assert.match(String(sandbox.logs('worker started')[0]?.workflowCode), /^prebuilt bundle /);
    assert.equal(baseline.logs('worker started')[0]?.workflowCode, 'bundled at start');
    const warnings = sandbox.logLines.filter((line) =>
      /Ignoring WorkerOptions|unregistered external sink/.test(line),
    );
    assert.deepEqual(warnings, []);
  });

  it('SIGTERM: each worker drains and exits 0 within the grace period', async () => {
    const [baselineExit, sandboxExit] = await Promise.all([
      baseline.stop('SIGTERM', GRACE_MS * 3),
      sandbox.stop('SIGTERM', GRACE_MS * 3),
    ]);
    for (const [name, exit, worker] of [
      ['baseline', baselineExit, baseline],
      ['sandbox', sandboxExit, sandbox],
    ] as const) {
      assert.equal(exit.code, 0, `${name} exited with ${JSON.stringify(exit)}:\n${worker.tail()}`);
      assert.ok(exit.elapsedMs < GRACE_MS, `${name} took ${exit.elapsedMs} ms`);
      assert.equal(worker.logs('shutdown complete').length, 1);
    }
  });
});
