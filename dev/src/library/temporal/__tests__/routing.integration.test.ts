import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { runWithRoutingKey } from '@sandbox-routing/core';
import { RoutingClientInterceptor } from '@sandbox-routing/temporal';
import { stackEnv } from '@sandbox-routing/testkit';
import type { StandInProcess } from '../../../routeserver/standin-process';
import type { Observation } from './fixtures/routing-workflows';
import {
  foreignClientHeaders,
  HistoryRecorder,
  RoutingWorkers,
  routeTable,
  standInWithSandbox,
  WORKER_BASELINE,
} from './routing-workers';

const env = stackEnv();
const SANDBOX = 'sandbox-a';
const KEY = `k${randomUUID().slice(0, 12)}`;
const GROUP_KEY = `g${randomUUID().slice(0, 12)}`;
/** Histories of the runs, replayed at the end; set RECORD_HISTORIES=<dir> to save them as fixtures. */
const recorder = new HistoryRecorder();

describe('Temporal routing with a baseline and a sandboxed worker', () => {
  let standIn: StandInProcess;
  let door: RoutingWorkers;
  let plain: RoutingWorkers;
  let tracer: RoutingWorkers;
  const doorTable = { table: undefined as ReturnType<typeof routeTable> | undefined };

  before(async () => {
    standIn = await standInWithSandbox(SANDBOX, KEY);
    await standIn.putSandbox('sandbox-other', `o${KEY}`, [WORKER_BASELINE]);
    await standIn.admin('PUT', '/admin/routegroups/group', { routingKey: GROUP_KEY, sandboxes: [SANDBOX] });
    doorTable.table = routeTable(standIn.url);
    door = new RoutingWorkers(env.TEMPORAL_ADDRESS, standIn.url, SANDBOX);
    await door.start([
      new RoutingClientInterceptor({
        doorRouting: { routeTable: doorTable.table, sharedQueue: door.sharedQueue },
        onDecision: (event) => door.decisions.push(event),
      }),
    ]);
    plain = new RoutingWorkers(env.TEMPORAL_ADDRESS, standIn.url, SANDBOX);
    await plain.start([new RoutingClientInterceptor()]);
    tracer = new RoutingWorkers(env.TEMPORAL_ADDRESS, standIn.url, SANDBOX);
    await tracer.start([foreignClientHeaders('_tracer-data', `other=1,sd-routing-key=${KEY};prop=x`)]);
  });

  after(async () => {
    await Promise.all([door?.stop(), plain?.stop(), tracer?.stop()]);
    await doorTable.table?.stop();
    await standIn?.stop();
  });

  async function record(workers: RoutingWorkers, workflowId: string): Promise<void> {
    // Every run's history (through continue-as-new) is replayed later, saved as `history-<n>.json`.
    await recorder.record('history', workers.client, workflowId);
  }

  function assertAllOn(
    observations: Observation[],
    queue: string,
    key: string | undefined,
    instance: string,
  ) {
    assert.ok(observations.length > 0);
    for (const seen of observations) {
      assert.equal(seen.key, key, `${seen.step} saw key ${seen.key}`);
      assert.equal(seen.taskQueue, queue, `${seen.step} ran on ${seen.taskQueue}`);
      if (seen.instance !== undefined)
        assert.equal(seen.instance, instance, `${seen.step} ran on ${seen.instance}`);
    }
  }

  it('door-routed: every step of a sandbox-keyed workflow runs on the sandbox with the same key', async () => {
    const receiver = await door.client.workflow.start('signalReceiver', {
      taskQueue: door.sharedQueue,
      workflowId: `receiver-${randomUUID()}`,
    });
    const workflowId = `door-${randomUUID()}`;
    const handle = await runWithRoutingKey(KEY, () =>
      door.client.workflow.start('routingProbe', {
        taskQueue: door.sharedQueue,
        workflowId,
        args: [receiver.workflowId],
      }),
    );
    const observations = (await handle.result()) as Observation[];
    assert.deepEqual(
      observations.map((o) => o.step),
      [
        'workflow#0',
        'activity#0',
        'local-activity#0',
        'child',
        'child-activity',
        'workflow#1',
        'activity#1',
        'local-activity#1',
      ],
    );
    assertAllOn(observations, door.sandboxQueue, KEY, SANDBOX);
    const signalled = (await receiver.result()) as Observation[];
    assert.equal(signalled[0]?.key, KEY, 'the signal carried the key to a workflow that has none');
    assert.equal(signalled[0]?.taskQueue, door.sharedQueue, 'the keyless receiver stayed on the baseline');
    assert.ok(
      door.decisions.some((d) => d.component === 'client' && d.routingKey === KEY && d.owner === SANDBOX),
    );
    assert.ok(
      !door.decisions.some((d) => d.component === 'workflow-redirect'),
      'door-routed starts are not re-checked',
    );
    assert.ok(!door.decisions.some((d) => d.action === 'mismatch'));
    await record(door, workflowId);
  });

  it('door-routed: a RouteGroup key, no key and an unknown key each land on their owner', async () => {
    const cases: [string | undefined, string, string][] = [
      [GROUP_KEY, door.sandboxQueue, SANDBOX],
      [undefined, door.sharedQueue, 'baseline'],
      [`unknown${randomUUID().slice(0, 8)}`, door.sharedQueue, 'baseline'],
    ];
    for (const [key, queue, instance] of cases) {
      const start = () =>
        door.client.workflow.execute('simpleProbe', {
          taskQueue: door.sharedQueue,
          workflowId: `simple-${randomUUID()}`,
        });
      const observations = (await (key ? runWithRoutingKey(key, start) : start())) as Observation[];
      assertAllOn(observations, queue, key, instance);
    }
  });

  it('redirects a keyed workflow started on the shared queue without door routing', async () => {
    const workflowId = `redirect-${randomUUID()}`;
    const handle = await runWithRoutingKey(KEY, () =>
      plain.client.workflow.start('routingProbe', { taskQueue: plain.sharedQueue, workflowId, args: [''] }),
    );
    const observations = (await handle.result()) as Observation[];
    assertAllOn(observations, plain.sandboxQueue, KEY, SANDBOX);
    const redirect = plain.decisions.find(
      (d) => d.workflowId === workflowId && d.component === 'workflow-redirect',
    );
    assert.equal(redirect?.action, 'redirect');
    assert.equal(redirect?.taskQueue, plain.sandboxQueue);
    // The first run ended in continue-as-new onto the sandbox queue, before running any user code.
    const firstRun = await plain.client.workflow
      .getHandle(workflowId, handle.firstExecutionRunId)
      .fetchHistory();
    const last = firstRun.events?.at(-1);
    assert.equal(last?.workflowExecutionContinuedAsNewEventAttributes?.taskQueue?.name, plain.sandboxQueue);
    assert.ok(
      !firstRun.events?.some((e) => e.activityTaskScheduledEventAttributes),
      'no activity ran on the baseline',
    );
    await record(plain, workflowId);
  });

  it('routes a workflow whose key arrives only in _tracer-data baggage', async () => {
    const workflowId = `tracer-${randomUUID()}`;
    const observations = (await tracer.client.workflow.execute('routingProbe', {
      taskQueue: tracer.sharedQueue,
      workflowId,
      args: [''],
    })) as Observation[];
    assertAllOn(observations, tracer.sandboxQueue, KEY, SANDBOX);
    await record(tracer, workflowId);
  });

  it('replays every recorded history deterministically with the interceptors', async () => {
    assert.ok(recorder.runs.length >= 5, `recorded ${recorder.runs.length} histories`);
    await recorder.replayAll();
  });
});
