// @runs-alone: stops and restarts the stack's Kafka (dev/src/test-runner.ts runs it with no other test file beside it).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createTestTopic, pollUntil, readMessages, stackEnv } from '@sandbox-routing/testkit';
import {
  kafkaTrailTransport,
  subscribeTrail,
  type TrailSubscription,
  type TrailTransport,
  trailRecordKey,
  type WorkflowStartedRecord,
} from '@sandbox-routing/trail';
import { Kafka, logLevel } from 'kafkajs';
import { stopService, up } from '../../../stack/stack';

/**
 * The trail reader (`subscribeTrail`, what `producer load` and the console read outcomes with) across a
 * broker restart: it joins its group again afterwards, and must go on from where it was, not from the
 * end of the topic, or every record written meanwhile is never seen (`producer load` then reported
 * events as lost that had completed).
 */
const env = stackEnv();
const brokers = env.KAFKA_BROKERS.split(',');
const id = randomUUID().slice(0, 8);

function record(n: number): WorkflowStartedRecord {
  const eventId = `restart-${id}-${n}`;
  return {
    version: 1,
    kind: 'workflow.started',
    time: new Date().toISOString(),
    eventId,
    routingKey: null,
    instance: 'baseline',
    workflowId: `evt-${eventId}`,
    runId: randomUUID(),
    workflowType: 'processOrder',
    taskQueue: 'orders',
    worker: 'baseline@test',
    ingestedBy: 'baseline',
    eventTime: null,
    continuedFromRunId: null,
  };
}

/**
 * Sends records `from`..`to - 1`, retrying while the broker is not back yet. A failed send may have
 * been written all the same: each attempt's records get new run ids, so a record written twice is
 * told apart from one read twice.
 */
async function send(transport: TrailTransport, from: number, to: number): Promise<void> {
  const messages = () =>
    Array.from({ length: to - from }, (_, i) => {
      const r = record(from + i);
      return { key: trailRecordKey(r), value: JSON.stringify(r) };
    });
  await pollUntil(
    () =>
      transport.send(messages()).then(
        () => true,
        () => false,
      ),
    { description: `records ${from}..${to - 1} sent`, timeoutMs: 60_000, intervalMs: 100 },
  );
}

describe('the trail reader across a broker restart', () => {
  let subscription: TrailSubscription | undefined;
  let transport: TrailTransport | undefined;

  after(async () => {
    await up(); // whatever happened, leave the stack whole
    await subscription?.stop();
    await transport?.close();
  });

  it('reads every record written while it rejoined, each once', async () => {
    const topic = await createTestTopic(brokers, 'trail-restart', 3);
    /** Event id → the run ids of the records read for it (a run id twice: a record read twice). */
    const seen = new Map<string, string[]>();
    subscription = await subscribeTrail({
      brokers,
      clientId: 'trail-restart-test',
      topic,
      onRecord: (r) => {
        if (r.eventId && r.kind === 'workflow.started')
          seen.set(r.eventId, [...(seen.get(r.eventId) ?? []), r.runId]);
      },
    });
    transport = kafkaTrailTransport({ brokers, clientId: 'trail-restart-test', topic });
    const all = (count: number) => Array.from({ length: count }, (_, n) => `restart-${id}-${n}`);
    await send(transport, 0, 10);
    await pollUntil(() => all(10).every((e) => seen.has(e)), {
      description: 'the first 10 records read',
      timeoutMs: 30_000,
    });

    await stopService('kafka');
    await up();
    // Written as soon as the broker is back, while the reader is still finding its group again.
    await send(transport, 10, 40);
    try {
      await pollUntil(() => all(40).every((e) => seen.has(e)), {
        description: 'every record read after the restart',
        timeoutMs: 90_000,
      });
    } catch (error) {
      const missing = all(40).filter((e) => !seen.has(e));
      assert.fail(`${missing.length} of 30 records written after the restart never read: ${error}`);
    }
    // kafkajs's producer may write a batch twice when an acknowledgement is lost (it is not
    // idempotent): the reader must read exactly what the topic holds, no more.
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const written = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    await admin.disconnect();
    const inTopic = await readMessages(brokers, topic, written);
    const count = (runIds: string[]) =>
      runIds.reduce((counts, run) => counts.set(run, (counts.get(run) ?? 0) + 1), new Map<string, number>());
    const expected = count(
      inTopic.map((m) => (JSON.parse(String(m.message.value)) as { runId: string }).runId),
    );
    const read = count([...seen.values()].flat());
    assert.equal(read.size, expected.size, 'every record in the topic read');
    assert.deepEqual(
      [...read].filter(([run, n]) => n !== expected.get(run)),
      [],
      'each record read as often as it is in the topic: once per copy',
    );
  });
});
