import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { contextWithRoutingKey, routingKeyFromContext } from '@sandbox-routing/core';
import { parseEvent } from '@sandbox-routing/sample';
import { createLogger } from '@sandbox-routing/service-kit';
import type { Message } from 'kafkajs';
import { payloadFromTemplate, sampleOrder } from '../payload';
import {
  buildEvents,
  type EventSender,
  formatSummary,
  MAX_BATCH,
  type MessagePlacement,
  PublishError,
  type PublishResult,
  publishEvents,
  summaryJson,
  toMessages,
  UsageError,
} from '../publish';
import { useTelemetry } from './telemetry';

/** The CLI's logger (shared's pino logger), with its lines captured instead of written to stderr. */
function captureLog(lines: string[]) {
  const destination = { write: (line: string) => void lines.push(line) };
  return createLogger({ logLevel: 'warn', serviceName: 'producer' }, undefined, { destination });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One call of the fake sender: the messages and the routing key in the active context at that moment. */
interface SendCall {
  topic: string;
  messages: Message[];
  routingKey: string | undefined;
}

/** A sender that spreads messages round-robin over three partitions with per-partition offsets. */
function fakeSender(onSend?: (call: SendCall, index: number) => void): EventSender & { calls: SendCall[] } {
  const calls: SendCall[] = [];
  const nextOffset = [0, 0, 0];
  let placed = 0;
  return {
    calls,
    async send(topic, messages) {
      const call = { topic, messages, routingKey: routingKeyFromContext(context.active()) };
      calls.push(call);
      onSend?.(call, calls.length - 1);
      return messages.map((): MessagePlacement => {
        const partition = placed++ % 3;
        const offset = nextOffset[partition]!;
        nextOffset[partition] = offset + 1;
        return { partition, offset: String(offset) };
      });
    },
    disconnect: async () => undefined,
  };
}

describe('buildEvents', () => {
  it('builds valid events with <prefix>-<seq> ids and the default type', () => {
    const events = buildEvents({ count: 3, idPrefix: 'demo', payload: sampleOrder });
    assert.deepEqual(
      events.map((e) => e.id),
      ['demo-1', 'demo-2', 'demo-3'],
    );
    for (const event of events) {
      assert.equal(event.type, 'order.created');
      assert.ok(parseEvent(JSON.stringify(event), 1 << 20).ok);
    }
  });

  it('uses distinct random UUIDs without a prefix, and passes seq and id to the payload', () => {
    const events = buildEvents({
      count: 5,
      type: 'order.cancelled',
      payload: payloadFromTemplate('{"ref":"{{id}}","n":{{seq}}}'),
    });
    assert.equal(new Set(events.map((e) => e.id)).size, 5);
    events.forEach((event, i) => {
      assert.match(event.id, UUID);
      assert.equal(event.type, 'order.cancelled');
      assert.deepEqual(event.payload, { ref: event.id, n: i + 1 });
    });
  });

  it('names the option behind an invalid event', () => {
    const cases: [Parameters<typeof buildEvents>[0], RegExp][] = [
      [
        { count: 1, type: 'OrderCreated', payload: sampleOrder },
        /^option '--type' is invalid: "OrderCreated" is not an event type: use lower-case words .* joined by dots .*e\.g\. order\.created$/,
      ],
      [
        { count: 1, idPrefix: 'no spaces', payload: sampleOrder },
        /^option '--id-prefix' is invalid: .*\/id must match/,
      ],
      [{ count: 1, idPrefix: 'x'.repeat(127), payload: sampleOrder }, /^option '--id-prefix' is invalid/],
      [
        {
          count: 2,
          payload: ({ seq }) => {
            if (seq === 2) throw new Error('boom');
            return {};
          },
          payloadOption: '--template',
        },
        /^option '--template' is invalid: boom/,
      ],
    ];
    for (const [plan, pattern] of cases) {
      assert.throws(
        () => buildEvents(plan),
        (error: unknown) => error instanceof UsageError && pattern.test(error.message),
      );
    }
  });
});

describe('toMessages', () => {
  const events = buildEvents({ count: 3, idPrefix: 'm', payload: sampleOrder });

  it('keys each message by its event id unless a key is given', () => {
    assert.deepEqual(
      toMessages(events).map((m) => m.key),
      ['m-1', 'm-2', 'm-3'],
    );
    assert.deepEqual(
      toMessages(events, { key: 'customer-1' }).map((m) => m.key),
      ['customer-1', 'customer-1', 'customer-1'],
    );
  });

  it('writes the routing key into baggage itself, with no OpenTelemetry SDK or instrumentation loaded', () => {
    assert.equal(propagation.getActiveBaggage(), undefined, 'no SDK here');
    const sendContext = contextWithRoutingKey(ROOT_CONTEXT, 'k7x2m9p4q1w8z');
    const messages = toMessages(events, { sendContext, headers: { 'x-test': '1' } });
    for (const message of messages) {
      assert.deepEqual(message.headers, { 'x-test': '1', baggage: 'sd-routing-key=k7x2m9p4q1w8z' });
    }
    assert.equal(toMessages(events)[0]?.headers?.baggage, undefined, 'no context, no baggage');
  });

  it('gives every message its own headers object (the instrumentation writes into it)', () => {
    const messages = toMessages(events, { headers: { 'x-test': ['1', '2'] } });
    assert.deepEqual(messages[0]?.headers, { 'x-test': ['1', '2'] });
    assert.notEqual(messages[0]?.headers, messages[1]?.headers);
    assert.deepEqual(JSON.parse(String(messages[2]?.value)), events[2]);
  });
});

describe('publishEvents', () => {
  // The real context manager and propagators, as in the CLI: context.with needs a context manager.
  useTelemetry();

  it('sends unpaced in batches of at most MAX_BATCH, in the routing key context, in order', async () => {
    const events = buildEvents({ count: MAX_BATCH * 2 + 7, idPrefix: 'b', payload: sampleOrder });
    const sender = fakeSender();
    const result = await publishEvents(sender, events, { topic: 't', routingKey: 'k7x2m9p4q1w8z' });
    assert.deepEqual(
      sender.calls.map((c) => c.messages.length),
      [MAX_BATCH, MAX_BATCH, 7],
    );
    assert.ok(sender.calls.every((c) => c.routingKey === 'k7x2m9p4q1w8z' && c.topic === 't'));
    assert.deepEqual(
      sender.calls.flatMap((c) => c.messages.map((m) => m.key)),
      events.map((e) => e.id),
    );
    assert.equal(result.sent, events.length);
    assert.equal(result.interrupted, false);
    assert.deepEqual(result.events[4], { id: 'b-5', partition: 1, offset: '1' });
  });

  it('sends without baggage when there is no routing key', async () => {
    const sender = fakeSender();
    const result = await publishEvents(sender, buildEvents({ count: 2, payload: sampleOrder }), {
      topic: 't',
    });
    assert.equal(sender.calls[0]?.routingKey, undefined);
    assert.equal(result.routingKey, undefined);
    assert.equal(summaryJson(result).routingKey, null);
  });

  it('paces with --rate: every event is sent, none before its due time', async () => {
    const sender = fakeSender();
    const rate = 100;
    const count = 5;
    const result = await publishEvents(sender, buildEvents({ count, payload: sampleOrder }), {
      topic: 't',
      rate,
    });
    assert.equal(result.sent, count);
    // The last event is due (count - 1) / rate s after the start; a lower bound cannot flake.
    assert.ok(result.elapsedMs >= ((count - 1) * 1000) / rate, `elapsed ${result.elapsedMs} ms`);
    assert.ok(sender.calls.length >= 2, 'paced events are not sent in one batch');
  });

  it('stops after the batch in flight when the signal aborts', async () => {
    const stop = new AbortController();
    const sender = fakeSender((_, index) => {
      if (index === 1) stop.abort();
    });
    const events = buildEvents({ count: 50, payload: sampleOrder });
    const result = await publishEvents(sender, events, { topic: 't', rate: 200, signal: stop.signal });
    assert.equal(result.interrupted, true);
    assert.equal(
      result.sent,
      sender.calls.reduce((n, c) => n + c.messages.length, 0),
    );
    assert.ok(result.sent < 50);
    assert.match(formatSummary(result), new RegExp(`interrupted: sent ${result.sent} of 50 events`));
  });

  it('retries a failing send until it goes through, and logs each retry', async () => {
    const lines: string[] = [];
    const log = captureLog(lines);
    const sender = fakeSender((_, index) => {
      if (index === 1 || index === 2) throw new Error('broker went away');
    });
    const events = buildEvents({ count: MAX_BATCH + 1, payload: sampleOrder });
    const result = await publishEvents(sender, events, { topic: 't', log, retryTimeoutMs: 60_000 });
    assert.equal(result.sent, MAX_BATCH + 1);
    assert.equal(sender.calls.length, 4, 'one batch, two failures, the second batch');
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /"sent":500,"of":501.*send failed; retrying/);
  });

  it('gives up after the retry time, saying what it sent', async () => {
    const sender = fakeSender((_, index) => {
      if (index >= 1) throw new Error('broker went away');
    });
    const events = buildEvents({ count: MAX_BATCH + 1, payload: sampleOrder });
    await assert.rejects(
      publishEvents(sender, events, { topic: 't', retryTimeoutMs: 300 }),
      (error: unknown) => {
        assert.ok(error instanceof PublishError);
        assert.match(
          error.message,
          new RegExp(`failed after ${MAX_BATCH} of ${MAX_BATCH + 1} events.*broker went away`),
        );
        assert.equal(error.partial.sent, MAX_BATCH);
        assert.ok(sender.calls.length > 2, 'retried before giving up');
        return true;
      },
    );
  });

  it('retries only when told to: an interactive caller gets the failure at once', async () => {
    const sender = fakeSender((_, index) => {
      if (index === 1) throw new Error('broker went away');
    });
    const events = buildEvents({ count: MAX_BATCH + 1, payload: sampleOrder });
    await assert.rejects(publishEvents(sender, events, { topic: 't' }), /failed after 500 of 501 events/);
    assert.equal(sender.calls.length, 2);
  });

  it('gives up at once on an error retrying cannot fix', async () => {
    const sender = fakeSender((_, index) => {
      if (index === 1) throw Object.assign(new Error('record too large'), { retriable: false });
    });
    const events = buildEvents({ count: MAX_BATCH + 1, payload: sampleOrder });
    await assert.rejects(
      publishEvents(sender, events, { topic: 't' }),
      /failed after 500 of 501 events.*too large/,
    );
    assert.equal(sender.calls.length, 2);
  });
});

describe('summaries', () => {
  const result = (count: number): PublishResult => ({
    topic: 'events',
    routingKey: 'k1',
    requested: count,
    sent: count,
    interrupted: false,
    elapsedMs: 250,
    events: Array.from({ length: count }, (_, i) => ({
      id: `e-${i + 1}`,
      partition: i % 3,
      offset: String(10 + i),
    })),
  });

  it('prints one line per event up to 20 events', () => {
    const lines = formatSummary(result(20)).trimEnd().split('\n');
    assert.equal(lines.length, 22);
    assert.match(lines[0] ?? '', /^id\s+topic\s+partition\s+offset\s+routing key$/);
    assert.match(lines[1] ?? '', /^e-1\s+events\s+0\s+10\s+k1$/);
    assert.match(lines[21] ?? '', /^sent 20 events to events in 250 ms \(80 events\/s\), routing key k1$/);
  });

  it('prints counts per partition above 20 events', () => {
    const text = formatSummary({ ...result(21), routingKey: undefined, elapsedMs: 1500 });
    assert.match(text, /^partition\s+events\n0\s+7\n1\s+7\n2\s+7\ntotal\s+21\n/);
    assert.match(text, /sent 21 events to events in 1\.50 s \(14 events\/s\), routing key \(none\)\n$/);
  });

  it('has a JSON form with topic, counts, routing key and every event', () => {
    assert.deepEqual(summaryJson(result(3)), {
      topic: 'events',
      sent: 3,
      requested: 3,
      interrupted: false,
      routingKey: 'k1',
      elapsedMs: 250,
      ratePerSecond: 12,
      partitions: { '0': 1, '1': 1, '2': 1 },
      events: result(3).events,
    });
  });
});

describe('the CLI logger', () => {
  it('writes pino JSON lines at or above the configured level', () => {
    const lines: string[] = [];
    const log = captureLog(lines);
    log.info({ a: 1 }, 'hidden');
    log.warn({ topic: 't' }, 'shown');
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0] ?? '{}');
    assert.equal(entry.level, 40);
    assert.equal(entry.service, 'producer');
    assert.equal(entry.topic, 't');
    assert.equal(entry.msg, 'shown');
    assert.ok(lines[0]?.endsWith('\n'));
  });
});
