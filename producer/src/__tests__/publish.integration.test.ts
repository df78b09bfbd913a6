import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { extractRoutingKey, headerValues } from '@sandbox-routing/core';
import { parseEvent } from '@sandbox-routing/sample';
import {
  createTestTopic,
  pollUntil,
  type ReadMessage,
  readMessages,
  stackEnv,
} from '@sandbox-routing/testkit';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import type { PublishSummary } from '../publish';
import { type CliRun, runCli, startCli } from './run-cli';

const env = stackEnv();
const brokers = env.KAFKA_BROKERS.split(',');
const kafka = new Kafka({ clientId: 'producer-test', brokers, logLevel: logLevel.NOTHING });
/** W3C trace-context version 00: trace id and span id in lowercase hex, neither all zeros. */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const ROUTING_KEY = 'k7x2m9p4q1w8z';

type Consumed = ReadMessage;

let admin: Admin;

/** A fresh 3-partition topic (the local broker does not create topics on demand). */
const createTopic = () => createTestTopic(brokers, 'producer-test', 3);

/** Messages on `topic` per its high watermarks: exact once the CLI has exited (it sends with acks=-1). */
async function messageCount(topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, { high }) => sum + Number(high), 0);
}

/** Reads `count` messages from the start of `topic`, polling with a deadline. */
const consume = (topic: string, count: number): Promise<Consumed[]> => readMessages(brokers, topic, count);

function summaryOf(run: CliRun): PublishSummary {
  assert.doesNotThrow(
    () => JSON.parse(run.stdout),
    `stdout is one JSON document: ${run.stdout}\n${run.stderr}`,
  );
  return JSON.parse(run.stdout) as PublishSummary;
}

function text(values: string[]): string | undefined {
  assert.ok(values.length <= 1, `at most one value: ${values.join(' | ')}`);
  return values[0];
}

describe('producer CLI against the local stack', () => {
  before(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => {
    await admin.disconnect();
  });

  it('publishes events whose headers carry traceparent and sd-routing-key baggage, as the summary says', async () => {
    const topic = await createTopic();
    const count = 12;
    const run = await runCli(
      [
        'publish',
        '--routing-key',
        ROUTING_KEY,
        '--count',
        String(count),
        '--id-prefix',
        'spread',
        '--header',
        'x-test=a',
        '--header',
        'x-test=b=c',
        '--json',
      ],
      { KAFKA_BROKERS: env.KAFKA_BROKERS, KAFKA_TOPIC: topic },
    );
    assert.equal(run.code, 0, run.stderr);
    const summary = summaryOf(run);
    assert.equal(summary.topic, topic);
    assert.equal(summary.sent, count);
    assert.equal(summary.routingKey, ROUTING_KEY);
    assert.equal(summary.interrupted, false);
    assert.deepEqual(
      summary.events.map((e) => e.id),
      Array.from({ length: count }, (_, i) => `spread-${i + 1}`),
    );
    // Keys are the ids, so the default partitioner spreads them (deterministically, for these ids).
    assert.ok(Object.keys(summary.partitions).length > 1, JSON.stringify(summary.partitions));

    const consumed = await consume(topic, count);
    assert.equal(await messageCount(topic), count, 'exactly the events of the summary, no duplicates');
    const byId = new Map(summary.events.map((e) => [e.id, e]));
    const traceparents = new Set<string>();
    for (const { partition, message } of consumed) {
      const parsed = parseEvent(message.value, 1 << 20);
      assert.ok(parsed.ok, `valid event: ${message.value?.toString()}`);
      const expected = byId.get(parsed.event.id);
      const traceparent = text(headerValues(message.headers, 'traceparent'));
      assert.match(traceparent ?? '', TRACEPARENT);
      // The summary names the trace each event starts: the one its traceparent carries.
      assert.deepEqual(
        { id: parsed.event.id, partition, offset: message.offset, traceId: traceparent?.split('-')[1] },
        expected,
      );
      assert.equal(message.key?.toString(), parsed.event.id);
      assert.equal(parsed.event.type, 'order.created');

      traceparents.add(traceparent ?? '');
      assert.match(
        text(headerValues(message.headers, 'baggage')) ?? '',
        new RegExp(`(^|,)\\s*sd-routing-key=${ROUTING_KEY}\\s*(,|;|$)`),
      );
      // What the ingress will read: the key, from the canonical carrier.
      assert.deepEqual(extractRoutingKey(message.headers), { key: ROUTING_KEY, carrier: 'baggage' });
      assert.deepEqual(headerValues(message.headers, 'x-test'), ['a', 'b=c']);
    }
    assert.equal(traceparents.size, count, 'one span, so one traceparent, per message');
  });

  it('sends no sd-routing-key baggage without a routing key (option absent or "")', async () => {
    const topic = await createTopic();
    const kafkaEnv = { KAFKA_BROKERS: env.KAFKA_BROKERS, KAFKA_TOPIC: topic };
    const absent = await runCli(['publish', '--count', '2', '--id-prefix', 'absent', '--json'], kafkaEnv);
    // The Kubernetes Job's shape when ROUTING_KEY is empty.
    const empty = await runCli(
      ['publish', '--routing-key', '', '--count', '2', '--id-prefix', 'empty', '--json'],
      kafkaEnv,
    );
    for (const run of [absent, empty]) {
      assert.equal(run.code, 0, run.stderr);
      assert.equal(summaryOf(run).routingKey, null);
    }

    const consumed = await consume(topic, 4);
    assert.equal(await messageCount(topic), 4);
    for (const { message } of consumed) {
      assert.match(text(headerValues(message.headers, 'traceparent')) ?? '', TRACEPARENT);
      assert.ok(!headerValues(message.headers, 'baggage').some((b) => b.includes('sd-routing-key')));
      assert.equal(extractRoutingKey(message.headers), undefined);
    }
  });

  it('paces with --rate and still sends every event', async () => {
    const topic = await createTopic();
    const count = 5;
    const rate = 20;
    const run = await runCli(
      ['publish', '--rate', String(rate), '--count', String(count), '--id-prefix', 'paced', '--json'],
      {
        KAFKA_BROKERS: env.KAFKA_BROKERS,
        KAFKA_TOPIC: topic,
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const summary = summaryOf(run);
    assert.equal(summary.sent, count);
    // Only a lower bound: the last event is due (count - 1) / rate s after the first.
    assert.ok(summary.elapsedMs >= ((count - 1) * 1000) / rate - 1, `elapsed ${summary.elapsedMs} ms`);
    const consumed = await consume(topic, count);
    assert.deepEqual(
      consumed.map(({ message }) => message.key?.toString()).sort(),
      summary.events.map((e) => e.id).sort(),
    );
    assert.equal(await messageCount(topic), count);
  });

  it('stops on SIGTERM after the batch in flight, exits 143 and reports what was sent', async () => {
    const topic = await createTopic();
    const cli = startCli(['publish', '--rate', '10', '--count', '1000', '--json'], {
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      KAFKA_TOPIC: topic,
    });
    await pollUntil(async () => (await messageCount(topic)) >= 2, {
      description: 'the first events',
      timeoutMs: 30_000,
    });
    cli.kill('SIGTERM');
    const run = await cli.done;
    assert.equal(run.code, 143, run.stderr);
    const summary = summaryOf(run);
    assert.equal(summary.interrupted, true);
    assert.ok(summary.sent >= 2 && summary.sent < 1000, `sent ${summary.sent}`);
    assert.equal(
      await messageCount(topic),
      summary.sent,
      'the summary counts exactly what reached the topic',
    );
  });

  it('exits 78 naming the setting when the configuration is invalid', async () => {
    const run = await runCli(['publish', '--count', '1'], { KAFKA_BROKERS: 'localhost' });
    assert.equal(run.code, 78, run.stderr);
    assert.match(
      run.stderr,
      /kafka\.brokers \(env KAFKA_BROKERS\): must be a comma-separated list of host:port, got "localhost"/,
    );
    assert.equal(run.stdout, '');
  });

  it('exits 2 naming the option on invalid input, and sends nothing', async () => {
    const topic = await createTopic();
    const cases: [string[], RegExp][] = [
      [
        ['--payload', '{not json'],
        /option '--payload <json>' argument '\{not json' is invalid\. not valid JSON/,
      ],
      [['--payload', '[1,2]'], /option '--payload <json>'.*expected a JSON object, got an array/],
      [
        ['--template', '{"qty":{{quantity}}}'],
        /option '--template <json>'.*unknown placeholder \{\{quantity\}\}/,
      ],
      [['--header', 'baggage=sd-routing-key=k1'], /option '--header <name=value>'.*use --routing-key/],
      [['--routing-key', 'not a key'], /option '--routing-key <key>' argument 'not a key' is invalid/],
      [
        ['--type', 'OrderCreated'],
        /option '--type' is invalid: "OrderCreated" is not an event type: use lower-case words/,
      ],
      [['--id-prefix', 'no/slashes'], /option '--id-prefix' is invalid/],
    ];
    for (const [args, pattern] of cases) {
      const run = await runCli(['publish', '--count', '3', ...args], {
        KAFKA_BROKERS: env.KAFKA_BROKERS,
        KAFKA_TOPIC: topic,
      });
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, pattern);
      assert.equal(run.stdout, '');
    }
    assert.equal(await messageCount(topic), 0);
  });

  it('exits 1 with a clear message when the topic does not exist', async () => {
    const topic = `producer-test-missing-${randomUUID().slice(0, 8)}`;
    const run = await runCli(['publish', '--topic', topic], { KAFKA_BROKERS: env.KAFKA_BROKERS });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`topic ${topic} does not exist`));
    const topics = await admin.listTopics();
    assert.ok(!topics.includes(topic), 'not created on demand');
  });
});
