import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readMessages, stackEnv } from '@sandbox-routing/testkit';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { Pipeline } from '../../pipeline/pipeline';
import { STACK_DIR } from '../../stack/paths';
import { EVENTS_MAX_MESSAGE_BYTES } from '../../stack/services';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const brokers = stack.KAFKA_BROKERS.split(',');

function orderEvent(eventId: string, padding = 0): string {
  return JSON.stringify({
    id: eventId,
    type: 'order.created',
    time: new Date().toISOString(),
    payload: { orderId: eventId, ...(padding > 0 ? { padding: 'x'.repeat(padding) } : {}) },
  });
}

/** Header values as Buffers, per name, in order (kafkajs gives a Buffer, or an array for repeats). */
function headerBuffers(headers: IHeaders | undefined): Map<string, Buffer[]> {
  const out = new Map<string, Buffer[]>();
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const values = (Array.isArray(value) ? value : [value]).map((v) =>
      Buffer.isBuffer(v) ? v : Buffer.from(v),
    );
    out.set(name, values);
  }
  return out;
}

/** The copy's headers without the ones the dead-letter publisher adds. */
function originalPart(headers: IHeaders | undefined): Map<string, Buffer[]> {
  const all = headerBuffers(headers);
  for (const name of [...all.keys()]) if (name.startsWith('dead-letter-')) all.delete(name);
  return all;
}

function header(message: KafkaMessage, name: string): string | undefined {
  return headerBuffers(message.headers).get(name)?.[0]?.toString();
}

describe('dead letters', () => {
  const pipelines: Pipeline[] = [];
  after(async () => {
    for (const pipeline of pipelines) await pipeline.stop();
  });

  it('are the original record byte for byte, whatever its headers hold', async () => {
    const pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-dead-letters-${id}`), {
      LOG_LEVEL: 'info',
    });
    pipelines.push(pipeline);
    await pipeline.startWorker();
    await pipeline.startIngress(); // with OpenTelemetry and its kafkajs instrumentation, as deployed

    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const manyMembers = Array.from({ length: 180 }, (_, i) => `m${i}=v${i}`).join(',');
    const oneMegabyteMember = `big=${'x'.repeat(1_000_000)}`;
    const originals: Message[] = [
      {
        // Two baggage headers, odd whitespace, an unreadable key: bad-headers.
        key: Buffer.from(`two-baggage-${id}`),
        value: Buffer.from(orderEvent(`dl-a-${id}`)),
        headers: {
          baggage: [
            Buffer.from('user=alice ,\t sd-routing-key = %%%bad ;p=1'),
            Buffer.from('  tenant=acme  '),
          ],
          traceparent,
        },
      },
      {
        // Bytes that are not UTF-8, in a header and in the value: not-json.
        key: Buffer.from([0xc3, 0x28, 0xff]),
        value: Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x80, 0x7d]),
        headers: { 'x-binary': Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc0]), traceparent },
      },
      {
        // A valid key after 1 MB of other members: the key is beyond the 8192-byte limit, so it is
        // "a carrier without a valid key" (bad-headers); the copy must not gain one.
        key: null,
        value: Buffer.from(orderEvent(`dl-c-${id}`)),
        headers: { baggage: `${oneMegabyteMember},sd-routing-key=kvalid${id}` },
      },
      {
        // 181 members, the key last (past the 180 the codec reads): bad-headers, all 181 kept.
        key: Buffer.from(`members-${id}`),
        value: Buffer.from(orderEvent(`dl-d-${id}`)),
        headers: { baggage: `${manyMembers},sd-routing-key=kmembers${id}`, traceparent },
      },
      {
        // About 1 MiB of event: over INGRESS_MAX_EVENT_BYTES, copied whole (the dead-letter topic's
        // limit is twice the events topic's).
        key: Buffer.from(`big-${id}`),
        value: Buffer.from(orderEvent(`dl-e-${id}`, EVENTS_MAX_MESSAGE_BYTES - 2000)),
        headers: { traceparent, baggage: 'user=bob' },
      },
    ];
    const good = `dl-good-${id}`;
    const producer = pipeline.kafka().producer();
    await producer.connect();
    for (const message of originals)
      await producer.send({ topic: pipeline.topic, messages: [{ ...message, partition: 0 }] });
    await producer.send({ topic: pipeline.topic, messages: [{ partition: 0, value: orderEvent(good) }] });
    await producer.disconnect();

    assert.equal((await pipeline.outcome(good)).status, 'COMPLETED', 'the event after them was processed');
    const sent = await readMessages(brokers, pipeline.topic, originals.length + 1);
    const dead = await readMessages(brokers, pipeline.deadLetterTopic, originals.length);
    assert.equal(dead.length, originals.length);
    const byOffset = new Map(sent.map((s) => [s.message.offset, s.message]));

    for (const { message: copy } of dead) {
      const source = header(copy, 'dead-letter-source') ?? '';
      assert.match(source, new RegExp(`^${pipeline.topic}/0/\\d+$`));
      const original = byOffset.get(source.split('/')[2] as string);
      assert.ok(original, `the original of ${source}`);
      const what = `copy of ${source} (${header(copy, 'dead-letter-reason')})`;
      assert.deepEqual(copy.key, original.key, `${what}: key`);
      assert.ok(copy.value?.equals(original.value ?? Buffer.alloc(0)), `${what}: value`);
      assert.equal(copy.timestamp, original.timestamp, `${what}: timestamp`);
      assert.deepEqual(originalPart(copy.headers), headerBuffers(original.headers), `${what}: headers`);
    }
    const reasons = dead.map((d) => header(d.message, 'dead-letter-reason')).sort();
    assert.deepEqual(reasons, ['bad-headers', 'bad-headers', 'bad-headers', 'not-json', 'oversized']);
  });

  it('moves the value out of a record too large to copy, and goes on with the partition', async () => {
    // A dead-letter topic with the default limit while the events topic takes more: a ≈1.1 MiB event
    // fits the events topic, its copy does not fit the dead-letter topic.
    const pipeline = await Pipeline.isolated(
      stack,
      path.join(STACK_DIR, 'logs', `e2e-too-large-${id}`),
      { LOG_LEVEL: 'info' },
      undefined,
      {
        events: [{ name: 'max.message.bytes', value: String(2 * EVENTS_MAX_MESSAGE_BYTES) }],
        deadLetter: [{ name: 'max.message.bytes', value: String(EVENTS_MAX_MESSAGE_BYTES) }],
      },
    );
    pipelines.push(pipeline);
    await pipeline.startWorker();
    await pipeline.startIngress();
    const value = Buffer.from(orderEvent(`huge-${id}`, 1_150_000));
    const next = `after-huge-${id}`;
    const producer = pipeline.kafka().producer();
    await producer.connect();
    await producer.send({
      topic: pipeline.topic,
      messages: [
        {
          partition: 0,
          key: `huge-${id}`,
          value,
          headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
        },
      ],
    });
    await producer.send({ topic: pipeline.topic, messages: [{ partition: 0, value: orderEvent(next) }] });
    await producer.disconnect();

    assert.equal((await pipeline.outcome(next)).status, 'COMPLETED', 'the next event in the partition ran');
    const [dead] = await readMessages(brokers, pipeline.deadLetterTopic, 1);
    assert.ok(dead);
    const copy = dead.message;
    assert.equal(header(copy, 'dead-letter-reason'), 'too-large');
    assert.match(header(copy, 'dead-letter-detail') ?? '', /^oversized: /);
    assert.equal(copy.value, null, 'the value moved out');
    assert.equal(header(copy, 'dead-letter-value-bytes'), String(value.length));
    assert.equal(header(copy, 'dead-letter-value-sha256'), createHash('sha256').update(value).digest('hex'));
    assert.match(header(copy, 'dead-letter-source') ?? '', new RegExp(`^${pipeline.topic}/0/0$`));
    assert.equal(copy.key?.toString(), `huge-${id}`);
    assert.equal(header(copy, 'traceparent'), '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });
});
