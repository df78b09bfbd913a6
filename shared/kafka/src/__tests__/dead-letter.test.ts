import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { fromKafkajsHeaders, toKafkajsHeaders } from '../adapter/headers';
import { DeadLetterPublisher, DeadLetterRefusedError } from '../dead-letter';
import { headerMap, type KafkaRecord, recordBytes } from '../records';
import { BrokerError } from '../seam';
import { consumed, FakeSink, headers } from '../testing';

const DLQ = 'events.dead-letter';

function header(record: KafkaRecord | undefined, name: string): string | undefined {
  return record?.headers.find((h) => h.name === name)?.value?.toString();
}

/** A sink whose dead-letter topic takes records up to `limit` bytes (key + value + headers). */
function limitedSink(limit: number): FakeSink {
  const sink = new FakeSink();
  sink.check = (topic, record) => {
    if (topic === DLQ && recordBytes(record) > limit) throw new BrokerError('too large', 'too-large', false);
  };
  return sink;
}

describe('DeadLetterPublisher', () => {
  const original = consumed({
    topic: 'events',
    partition: 2,
    offset: '41',
    key: Buffer.from([0x00, 0xff]),
    value: Buffer.from('x'.repeat(5000)),
    headers: headers(['baggage', 'a=1'], ['baggage', ' b = 2 '], ['x-bin', Buffer.from([0xc3, 0x28])]),
    timestamp: '1700000000000',
  });

  it('writes the original record, then the reason, detail, source and time as added headers', async () => {
    const sink = new FakeSink();
    const result = await new DeadLetterPublisher(sink, DLQ).publish(original, 'schema', 'x'.repeat(5000));
    assert.deepEqual(result, { reason: 'schema', movedOut: 'nothing' });
    const [copy] = sink.of(DLQ);
    assert.ok(copy);
    assert.deepEqual(copy.key, original.key);
    assert.deepEqual(copy.value, original.value);
    assert.equal(copy.timestamp, original.timestamp);
    assert.deepEqual(copy.headers.slice(0, 3), original.headers);
    assert.deepEqual(
      copy.headers.slice(3).map((h) => h.name),
      ['dead-letter-reason', 'dead-letter-detail', 'dead-letter-source', 'dead-letter-time'],
    );
    assert.equal(header(copy, 'dead-letter-source'), 'events/2/41');
    assert.equal(header(copy, 'dead-letter-detail')?.length, 1000, 'the detail is bounded');
  });

  it('moves the value out of a copy that is too large, with its size and hash: reason too-large', async () => {
    const sink = limitedSink(4000);
    const result = await new DeadLetterPublisher(sink, DLQ).publish(original, 'oversized', 'too big');
    assert.deepEqual(result, { reason: 'too-large', movedOut: 'value' });
    const [copy] = sink.of(DLQ);
    assert.equal(copy?.value, null);
    assert.deepEqual(copy?.headers.slice(0, 3), original.headers, 'the original headers stay');
    assert.equal(header(copy, 'dead-letter-reason'), 'too-large');
    assert.equal(header(copy, 'dead-letter-detail'), 'oversized: too big');
    assert.equal(header(copy, 'dead-letter-value-bytes'), '5000');
    assert.equal(
      header(copy, 'dead-letter-value-sha256'),
      createHash('sha256')
        .update(original.value as Buffer)
        .digest('hex'),
    );
  });

  it('moves the headers out too when they alone are too large', async () => {
    const huge = consumed({ headers: headers(['baggage', `big=${'x'.repeat(10_000)}`]) });
    const sink = limitedSink(1000);
    const result = await new DeadLetterPublisher(sink, DLQ).publish(huge, 'bad-headers', 'no key');
    assert.deepEqual(result, { reason: 'too-large', movedOut: 'value-and-headers' });
    const [copy] = sink.of(DLQ);
    assert.equal(header(copy, 'baggage'), undefined);
    assert.ok(Number(header(copy, 'dead-letter-headers-bytes')) > 10_000);
  });

  it('gives up for good (no retry loop) when the topic refuses writes or does not exist', async () => {
    for (const error of [
      new BrokerError('denied', 'not-authorized', false),
      new BrokerError('no such topic', 'unknown-topic', true),
    ]) {
      const sink = new FakeSink();
      sink.failWith(DLQ, error);
      await assert.rejects(
        new DeadLetterPublisher(sink, DLQ).publish(original, 'schema', 'x'),
        DeadLetterRefusedError,
      );
    }
    const away = new FakeSink();
    away.failWith(DLQ, new BrokerError('no broker', 'unavailable', true));
    await assert.rejects(new DeadLetterPublisher(away, DLQ).publish(original, 'schema', 'x'), BrokerError);
  });
});

describe('kafkajs headers', () => {
  it('keeps every value of a repeated header, in order, as the same bytes', () => {
    const decoded = {
      baggage: [Buffer.from('a=1'), Buffer.from(' b=2 ')],
      'x-bin': Buffer.from([0xff, 0x00]),
      empty: Buffer.alloc(0),
    };
    const list = fromKafkajsHeaders(decoded);
    assert.deepEqual(
      list.map((h) => [h.name, h.value?.toString('hex')]),
      [
        ['baggage', Buffer.from('a=1').toString('hex')],
        ['baggage', Buffer.from(' b=2 ').toString('hex')],
        ['x-bin', 'ff00'],
        ['empty', ''],
      ],
    );
    assert.deepEqual(toKafkajsHeaders(list), decoded);
  });

  it('writes a header without a value as an empty one (kafkajs cannot write null)', () => {
    assert.deepEqual(toKafkajsHeaders([{ name: 'n', value: null }]), { n: Buffer.alloc(0) });
  });

  it('hands the routing-key codec every value of a repeated header', () => {
    const map = headerMap(headers(['baggage', 'a=1'], ['baggage', 'sd-routing-key=k1'], ['other', null]));
    assert.deepEqual(map.baggage, [Buffer.from('a=1'), Buffer.from('sd-routing-key=k1')]);
    assert.equal(map.other, null);
  });
});
