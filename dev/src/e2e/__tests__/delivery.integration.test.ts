import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readMessages, stackEnv } from '@sandbox-routing/testkit';
import type { KafkaMessage } from 'kafkajs';
import { Pipeline } from '../../pipeline/pipeline';
import { killService } from '../../pipeline/service-process';
import { STACK_DIR } from '../../stack/paths';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);

function orderEvent(eventId: string): string {
  return JSON.stringify({
    id: eventId,
    type: 'order.created',
    time: new Date().toISOString(),
    payload: { orderId: eventId },
  });
}

describe('delivery guarantees end to end', () => {
  let pipeline: Pipeline;

  before(async () => {
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-delivery-${id}`), {
      LOG_LEVEL: 'info',
    });
    await pipeline.startWorker();
  });

  after(async () => {
    await pipeline?.stop();
  });

  it('dead-letters bad events with their reason and keeps processing the partition', async () => {
    const ingress = await pipeline.startIngress();
    const producer = pipeline.kafka().producer();
    await producer.connect();
    const good = `good-${id}`;
    // All on partition 0, in order: the good event comes after every bad one.
    await producer.send({
      topic: pipeline.topic,
      messages: [
        { partition: 0, value: 'this is not json {' },
        { partition: 0, value: JSON.stringify({ id: `schema-${id}`, type: 'order.created', payload: {} }) },
        {
          partition: 0,
          value: orderEvent(`big-${id}`).replace(
            '{"orderId"',
            `{"padding":"${'x'.repeat(300_000)}","orderId"`,
          ),
        },
        {
          partition: 0,
          value: orderEvent(`hostile-${id}`),
          headers: { baggage: 'sd-routing-key=evil\r\nX-Injected: 1' },
        },
        {
          partition: 0,
          value: orderEvent(`hostile2-${id}`),
          headers: { baggage: `sd-routing-key=${'k'.repeat(10_000)}` },
        },
        {
          partition: 0,
          value: JSON.stringify({
            id: `type-${id}`,
            type: 'invoice.paid',
            time: new Date().toISOString(),
            payload: {},
          }),
        },
        { partition: 0, value: orderEvent(good) },
      ],
    });
    await producer.disconnect();

    const outcome = await pipeline.outcome(good);
    assert.equal(outcome.status, 'COMPLETED', 'the event after the bad ones was processed');
    const dead: KafkaMessage[] = (
      await readMessages(stack.KAFKA_BROKERS.split(','), pipeline.deadLetterTopic, 6)
    ).map((read) => read.message);
    const reasons = dead.map((m) => m.headers?.['dead-letter-reason']?.toString()).sort();
    assert.deepEqual(reasons, [
      'bad-headers',
      'bad-headers',
      'not-json',
      'oversized',
      'schema',
      'unknown-type',
    ]);
    for (const message of dead) {
      assert.match(
        message.headers?.['dead-letter-source']?.toString() ?? '',
        new RegExp(`^${pipeline.topic}/0/\\d+$`),
      );
      assert.ok((message.headers?.['dead-letter-detail']?.toString() ?? '').length > 0);
      assert.ok(message.value && message.value.length > 0, 'the original value is kept');
    }
    // Untrusted header content is never echoed into the logs, escaped or not: only the key, once valid.
    assert.doesNotMatch(readFileSync(ingress.logFile, 'utf8'), /X-Injected|kkkkkkkkkk/);
    await pipeline.stopService(ingress);
  });

  it('never starts a second workflow for a redelivered event (replay from offset 0, and a crash)', async () => {
    const published = await pipeline.publish({ count: 5, idPrefix: `redeliver-${id}` });
    const first = await pipeline.startIngress();
    const runIds = new Map<string, string>();
    for (const e of published.events) {
      await pipeline.outcome(e.id);
      runIds.set(e.id, (await pipeline.temporal().workflow.getHandle(`evt-${e.id}`).describe()).runId);
    }
    // Crash: no graceful commit of what was processed since the last auto-commit.
    await killService(first);
    pipeline.services.splice(pipeline.services.indexOf(first), 1);

    // Replay every partition from offset 0: a new consumer group starts at the earliest offset, and
    // does not wait out the crashed member's session the way a reset of the old group would.
    const second = await pipeline.startIngress('', { KAFKA_CONSUMER_GROUP: `replay-${id}` });
    await pipeline.awaitMetric(
      second,
      {
        name: 'sandbox_routing_ingress_events_total',
        labels: 'action="duplicate"',
        atLeast: published.events.length,
      },
      { description: 'every event to be redelivered and found already started', timeoutMs: 30_000 },
    );
    assert.equal(
      await pipeline.metric(second, 'sandbox_routing_ingress_events_total', 'action="started"'),
      0,
      'no second start',
    );
    for (const e of published.events) {
      const description = await pipeline.temporal().workflow.getHandle(`evt-${e.id}`).describe();
      assert.equal(description.runId, runIds.get(e.id), `${e.id} kept its one run`);
    }
  });
});
