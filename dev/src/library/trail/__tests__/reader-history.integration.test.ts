import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createTestTopic, pollUntil, stackEnv } from '@sandbox-routing/testkit';
import {
  kafkaTrailTransport,
  subscribeTrail,
  type TrailSubscription,
  type TrailTransport,
  trailRecordKey,
  type WorkflowStartedRecord,
} from '@sandbox-routing/trail';
import { Kafka, logLevel } from 'kafkajs';

/**
 * A trail reader with recent history (`from: { lastRecords }`, what the console starts with so that
 * the events sent before its page opened show): the last n records of each partition, then everything
 * new, each once.
 */
const brokers = stackEnv().KAFKA_BROKERS.split(',');
const id = randomUUID().slice(0, 8);

function record(n: number): WorkflowStartedRecord {
  const eventId = `history-${id}-${n}`;
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

const messages = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => {
    const r = record(from + i);
    return { key: trailRecordKey(r), value: JSON.stringify(r) };
  });

describe('the trail reader with recent history', () => {
  const subscriptions: TrailSubscription[] = [];
  let transport: TrailTransport | undefined;
  after(async () => {
    for (const s of subscriptions) await s.stop();
    await transport?.close();
  });

  it('reads the last n records of each partition written before it started, then the new ones, each once', async () => {
    const topic = await createTestTopic(brokers, 'trail-history', 2);
    transport = kafkaTrailTransport({ brokers, clientId: 'trail-history-test', topic });
    await transport.send(messages(0, 30));
    // Which event ids are the last 4 of each partition, as the topic holds them.
    const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: `h-${id}` });
    const byPartition = new Map<number, string[]>();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let total = 0;
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        total++;
        const eventId = (JSON.parse(String(message.value)) as { eventId: string }).eventId;
        byPartition.set(partition, [...(byPartition.get(partition) ?? []), eventId]);
      },
    });
    await pollUntil(() => total >= 30, { description: 'the 30 records read back', timeoutMs: 30_000 });
    await consumer.disconnect();
    const lastFour = [...byPartition.values()].flatMap((ids) => ids.slice(-4)).sort();

    const seen: string[] = [];
    const plain: string[] = [];
    subscriptions.push(
      await subscribeTrail({
        brokers,
        clientId: 'trail-history-test',
        topic,
        from: { lastRecords: 4 },
        onRecord: (r) => seen.push(r.eventId ?? ''),
      }),
      await subscribeTrail({
        brokers,
        clientId: 'trail-history-test',
        topic,
        onRecord: (r) => plain.push(r.eventId ?? ''),
      }),
    );
    await transport.send(messages(30, 35));
    const fresh = messages(30, 35).map((m) => (JSON.parse(m.value) as { eventId: string }).eventId);
    await pollUntil(() => fresh.every((e) => seen.includes(e) && plain.includes(e)), {
      description: 'the records written after the start read by both readers',
      timeoutMs: 30_000,
    });
    assert.deepEqual(
      seen.filter((e) => !fresh.includes(e)).sort(),
      lastFour,
      'the last 4 records of each partition, and nothing older',
    );
    assert.equal(seen.length, new Set(seen).size, 'each record once');
    assert.deepEqual(
      plain.sort(),
      [...fresh].sort(),
      'without history: only what was written after the start',
    );
  });
});
