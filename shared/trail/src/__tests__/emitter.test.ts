import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TrailEmitter, type TrailMessage, type TrailTransport } from '../emitter';
import { serviceTrailEmitter } from '../kafka';
import type { ActivityRecord } from '../record';

function record(eventId: string | null, workflowId = `evt-${eventId}`): ActivityRecord {
  return {
    version: 1,
    kind: 'activity.completed',
    time: new Date().toISOString(),
    eventId,
    routingKey: null,
    instance: 'baseline',
    workflowId,
    runId: 'run-1',
    workflowType: 'processOrder',
    activityType: 'priceOrder',
    activityId: '1',
    attempt: 1,
    taskQueue: 'orders',
    worker: 'baseline@test',
    startedAt: new Date().toISOString(),
    durationMs: 1,
    error: null,
  };
}

/** A transport that is down until `up()`, recording what it accepts. */
function switchableTransport() {
  const accepted: TrailMessage[] = [];
  let available = false;
  let attempts = 0;
  let closed = false;
  const transport: TrailTransport = {
    async send(messages) {
      attempts++;
      if (!available) throw new Error('broker unreachable');
      accepted.push(...messages);
    },
    async close() {
      closed = true;
    },
  };
  return {
    transport,
    accepted,
    up: () => {
      available = true;
    },
    attempts: () => attempts,
    closed: () => closed,
  };
}

const until = async (condition: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('TrailEmitter', () => {
  it('sends records keyed by event id, else by workflow id, those emitted within the linger in one batch', async () => {
    const link = switchableTransport();
    link.up();
    const emitter = new TrailEmitter({ transport: link.transport, lingerMs: 200 });
    assert.equal(emitter.emit(record('e-1')), true);
    // A later tick, within the linger: the same send.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(emitter.emit(record(null, 'wf-direct')), true);
    await until(() => link.accepted.length === 2);
    assert.deepEqual(
      link.accepted.map((m) => m.key),
      ['e-1', 'wf-direct'],
    );
    assert.equal(link.attempts(), 1);
    assert.equal(JSON.parse(link.accepted[0]?.value ?? '{}').eventId, 'e-1');
    await emitter.close();
    assert.ok(link.closed());
  });

  it('never blocks or throws while the transport is down: it buffers up to capacity, then drops and counts', async () => {
    const link = switchableTransport();
    const warnings: string[] = [];
    const emitter = new TrailEmitter({
      transport: link.transport,
      capacity: 3,
      initialRetryMs: 5,
      maxRetryMs: 10,
      logger: { warn: (_f, m) => warnings.push(m), info: () => undefined },
    });
    const results = Array.from({ length: 5 }, (_, i) => emitter.emit(record(`e-${i}`)));
    assert.deepEqual(results, [true, true, true, false, false]);
    await until(() => link.attempts() >= 3);
    assert.equal(emitter.stats().dropped, 2);
    assert.equal(emitter.stats().buffered, 3);
    assert.ok(emitter.stats().failedSends >= 2);
    assert.ok(warnings.includes('trail records dropped'));
    assert.ok(warnings.includes('sending trail records failed; retrying'));

    // Kafka is back: what was buffered goes out, in order, and nothing is lost twice.
    link.up();
    await until(() => link.accepted.length === 3);
    assert.deepEqual(
      link.accepted.map((m) => m.key),
      ['e-0', 'e-1', 'e-2'],
    );
    assert.deepEqual(
      { ...emitter.stats(), failedSends: 0 },
      {
        emitted: 5,
        sent: 3,
        dropped: 2,
        failedSends: 0,
        buffered: 0,
      },
    );
    await emitter.close();
  });

  it('close() sends what lingers at once', async () => {
    const link = switchableTransport();
    link.up();
    const emitter = new TrailEmitter({ transport: link.transport, lingerMs: 60_000 });
    emitter.emit(record('e-1'));
    // Waiting out the linger would take close past its 5 s, and the record would be dropped unsent.
    await emitter.close();
    assert.deepEqual(
      link.accepted.map((m) => m.key),
      ['e-1'],
    );
    assert.equal(emitter.stats().sent, 1);
  });

  it('close() gives up after its timeout and counts what was left as dropped', async () => {
    const link = switchableTransport();
    const emitter = new TrailEmitter({ transport: link.transport, initialRetryMs: 5, maxRetryMs: 10 });
    emitter.emit(record('e-1'));
    emitter.emit(record('e-2'));
    const started = Date.now();
    await emitter.close(50);
    assert.ok(Date.now() - started < 2000);
    assert.equal(emitter.stats().dropped, 2);
    assert.equal(emitter.stats().buffered, 0);
    assert.equal(emitter.emit(record('e-3')), false, 'emit after close drops');
    assert.ok(link.closed());
  });

  it('serviceTrailEmitter: none when the trail is off, else an emitter holding up to the buffer size', async () => {
    const kafka = { brokers: ['127.0.0.1:1'], clientId: 'trail-test' };
    const logger = { warn: () => undefined, info: () => undefined };
    assert.equal(
      serviceTrailEmitter({ enabled: false, topic: 't', bufferSize: 2 }, kafka, logger),
      undefined,
    );
    const emitter = serviceTrailEmitter({ enabled: true, topic: 't', bufferSize: 2 }, kafka, logger);
    assert.ok(emitter instanceof TrailEmitter);
    // Nothing answers on port 1: the records wait in the buffer, and the third one is dropped.
    assert.deepEqual(
      [emitter.emit(record('e-1')), emitter.emit(record('e-2')), emitter.emit(record('e-3'))],
      [true, true, false],
    );
    await emitter.close(50);
  });
});
