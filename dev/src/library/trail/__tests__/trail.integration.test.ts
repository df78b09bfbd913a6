import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RouteserverClient, RouteTable, runWithRoutingKey, type WorkloadRef } from '@sandbox-routing/core';
import {
  createRoutingWorker,
  ROUTING_WORKFLOW_INTERCEPTORS,
  RoutingClientInterceptor,
} from '@sandbox-routing/temporal';
import { createTestTopic, freePort, pollUntil, readMessages, stackEnv } from '@sandbox-routing/testkit';
import {
  kafkaTrailTransport,
  misplacements,
  subscribeTrail,
  TRAIL_WORKFLOW_INTERCEPTORS,
  TrailBook,
  TrailEmitter,
  type TrailRecord,
  type TrailSubscription,
  type TrailTransport,
  trailWorkerOptions,
} from '@sandbox-routing/trail';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { StandInProcess } from '../../../routeserver/standin-process';

/**
 * The trail against real servers: workers with the trail wired in publish where each run and
 * activity ran, through the real Kafka, without touching workflow histories.
 */
const env = stackEnv();
const brokers = env.KAFKA_BROKERS.split(',');
const id = randomUUID().slice(0, 8);
const WORKER: WorkloadRef = { kind: 'Deployment', namespace: 'local', name: `worker-trail-${id}` };
const SANDBOX = 'trail-sandbox';
const KEY = `t${id}key`;

Runtime.install({ logger: new DefaultLogger('WARN') });

/** A transport that keeps what it is sent. */
function capturing() {
  const records: TrailRecord[] = [];
  const transport: TrailTransport = {
    async send(messages) {
      for (const m of messages) records.push(JSON.parse(m.value) as TrailRecord);
    },
    close: async () => undefined,
  };
  return { records, transport };
}

describe('trail records from real workers', () => {
  let standIn: StandInProcess;
  let topic: string;
  let native: NativeConnection;
  let connection: Connection;
  let client: Client;
  const sharedQueue = `trail-it-${id}`;
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];
  const tables: RouteTable[] = [];
  const emitters: TrailEmitter[] = [];
  let subscription: TrailSubscription;
  const read = new TrailBook();
  const readRecords: TrailRecord[] = [];

  async function startWorker(sandboxName: string, emitter: TrailEmitter, queue = sharedQueue) {
    const table = new RouteTable({
      client: new RouteserverClient({ url: standIn.url, requestTimeoutMs: 1000 }),
      baseline: WORKER,
      refreshIntervalMs: 200,
      unknownKeyRefetchIntervalMs: 100,
      firstSyncTimeoutMs: 10_000,
    }).start();
    tables.push(table);
    const instance = sandboxName || 'baseline';
    const worker = await createRoutingWorker(
      trailWorkerOptions(
        {
          connection: native,
          workflowsPath: require.resolve('./fixtures/trail-workflows'),
          activities: { stamp: async (eventId: string) => `${eventId} on ${instance}` },
        },
        { emitter, instance, worker: `${instance}@test` },
      ),
      { identity: { baseline: WORKER, sandboxName }, routeTable: table, sharedQueue: queue },
    );
    workers.push(worker);
    running.push(worker.run());
  }

  before(async () => {
    standIn = await StandInProcess.start();
    await standIn.putSandbox(SANDBOX, KEY, [WORKER]);
    topic = await createTestTopic(brokers, 'trail', 1);
    subscription = await subscribeTrail({
      brokers,
      clientId: 'trail-test',
      topic,
      onRecord: (record) => {
        readRecords.push(record);
        read.apply(record);
      },
    });
    native = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    // No door routing: every start lands on the shared queue, so a sandbox key takes the redirect.
    client = new Client({ connection, interceptors: { workflow: [new RoutingClientInterceptor()] } });
    for (const sandboxName of ['', SANDBOX]) {
      const emitter = new TrailEmitter({
        transport: kafkaTrailTransport({ brokers, clientId: 'trail-test', topic }),
      });
      emitters.push(emitter);
      await startWorker(sandboxName, emitter);
    }
  });

  after(async () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.allSettled(running);
    await Promise.all(emitters.map((e) => e.close(1000)));
    await Promise.all(tables.map((t) => t.stop()));
    await subscription?.stop();
    await connection?.close();
    await native?.close();
    await standIn?.stop();
  });

  const start = (workflowType: string, eventId: string, key?: string) => {
    const go = () =>
      client.workflow.execute(workflowType, {
        taskQueue: sharedQueue,
        workflowId: `evt-${eventId}`,
        args: [{ id: eventId, payload: {} }],
        memo: { ingestedBy: 'baseline', eventTime: new Date().toISOString() },
      });
    return key ? runWithRoutingKey(key, go) : go();
  };

  it('a redirected workflow: started on the baseline, continued as new onto the sandbox, ran and completed there', async () => {
    const eventId = `redirect-${id}`;
    assert.equal(await start('tracedOrder', eventId, KEY), `${eventId} on ${SANDBOX}`);
    const trail = await pollUntil(
      () => {
        const t = read.get(`evt-${eventId}`);
        return t?.status === 'completed' && t.runs.length === 2 ? t : undefined;
      },
      { description: 'the trail of the redirected workflow, read back from Kafka', timeoutMs: 30_000 },
    );
    assert.equal(trail.eventId, eventId);
    assert.equal(trail.routingKey, KEY);
    assert.equal(trail.ingestedBy, 'baseline');
    assert.equal(trail.endedOn, SANDBOX);
    assert.deepEqual(
      trail.runs.map((r) => [r.instance, r.taskQueue, r.outcome, r.nextTaskQueue]),
      [
        ['baseline', sharedQueue, 'continued-as-new', `${sharedQueue}@${SANDBOX}`],
        [SANDBOX, `${sharedQueue}@${SANDBOX}`, 'completed', null],
      ],
    );
    assert.deepEqual(
      trail.runs[1]?.activities.map((a) => [a.activityType, a.instance, a.outcome]),
      [['stamp', SANDBOX, 'completed']],
    );
    assert.deepEqual(misplacements(trail, { worker: SANDBOX }), []);
    assert.deepEqual(misplacements(trail, { worker: 'baseline' }).length, 2, 'the check can fail');
    const started = readRecords.find((r) => r.kind === 'workflow.started' && r.instance === SANDBOX);
    assert.equal(started?.kind === 'workflow.started' && started.continuedFromRunId, trail.runs[0]?.runId);
  });

  it('keys each record by its event id on the topic', async () => {
    const eventId = `keyed-${id}`;
    await start('tracedOrder', eventId);
    await pollUntil(() => read.get(`evt-${eventId}`)?.status === 'completed', {
      description: 'the baseline workflow to complete',
      timeoutMs: 30_000,
    });
    const messages = await readMessages(brokers, topic, readRecords.length);
    const ours = messages.filter((m) => m.message.value?.toString().includes(`"evt-${eventId}"`));
    assert.equal(ours.length, 3, 'started, activity, completed');
    for (const m of ours) assert.equal(m.message.key?.toString(), eventId);
    // No routing key on trail messages: sandbox-aware consumers must not filter them.
    for (const m of ours) assert.equal(m.message.headers?.baggage, undefined);
  });

  it('a failed workflow says so, with the failure', async () => {
    const eventId = `failed-${id}`;
    await assert.rejects(start('rejectedOrder', eventId), WorkflowFailedError);
    const trail = await pollUntil(
      () => read.get(`evt-${eventId}`)?.status === 'failed' && read.get(`evt-${eventId}`),
      {
        description: 'the failed workflow trail',
        timeoutMs: 30_000,
      },
    );
    assert.equal(trail.runs[0]?.error?.type, 'InvalidOrder', 'the ApplicationFailure type');
    assert.match(trail.runs[0]?.error?.message ?? '', /rejected/);
  });

  it('leaves histories untouched: both runs of a redirect replay with or without the trail, and replays emit nothing', async () => {
    const eventId = `replay-${id}`;
    await start('tracedOrder', eventId, KEY);
    const trail = await pollUntil(
      () => {
        const t = read.get(`evt-${eventId}`);
        return t?.status === 'completed' && t.runs.length === 2 ? t : undefined;
      },
      { description: 'the redirected workflow trail', timeoutMs: 30_000 },
    );
    const replayEmitter = new TrailEmitter({ transport: capturing().transport });
    for (const run of trail.runs) {
      const history = await client.workflow.getHandle(`evt-${eventId}`, run.runId).fetchHistory();
      for (const modules of [
        [ROUTING_WORKFLOW_INTERCEPTORS],
        [TRAIL_WORKFLOW_INTERCEPTORS, ROUTING_WORKFLOW_INTERCEPTORS],
      ]) {
        await Worker.runReplayHistory(
          trailWorkerOptions(
            {
              workflowsPath: require.resolve('./fixtures/trail-workflows'),
              interceptors: { workflowModules: modules },
            },
            { emitter: replayEmitter, instance: 'replay', worker: 'replay' },
          ),
          history,
          `evt-${eventId}`,
        );
      }
    }
    assert.equal(replayEmitter.stats().emitted, 0, 'sink calls are not made while replaying');
    await replayEmitter.close();
  });

  it('workflows run on while Kafka is unreachable; the emitter drops beyond its buffer and counts it', async () => {
    const deadPort = await freePort();
    const queue = `trail-dead-${id}`;
    const emitter = new TrailEmitter({
      transport: kafkaTrailTransport({ brokers: [`127.0.0.1:${deadPort}`], clientId: 'trail-dead', topic }),
      capacity: 2,
      initialRetryMs: 50,
      maxRetryMs: 200,
    });
    emitters.push(emitter);
    await startWorker('', emitter, queue);
    for (const n of [1, 2]) {
      const result = await client.workflow.execute('tracedOrder', {
        taskQueue: queue,
        workflowId: `evt-dead-${id}-${n}`,
        args: [{ id: `dead-${id}-${n}`, payload: {} }],
      });
      assert.equal(result, `dead-${id}-${n} on baseline`);
    }
    const stats = emitter.stats();
    assert.equal(stats.emitted, 6, 'started, activity, completed per workflow');
    assert.equal(stats.sent, 0);
    assert.equal(stats.buffered, 2);
    assert.equal(stats.dropped, 4);
    await pollUntil(() => emitter.stats().failedSends > 0, {
      description: 'a failed send',
      timeoutMs: 20_000,
    });
  });
});
