import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { ConsumerLoop, DeadLetterPublisher } from '@sandbox-routing/kafka';
import { pollUntil } from '@sandbox-routing/testkit';
import type { WorkflowStartOptions } from '@temporalio/client';
import { createEventHandler } from '../handler';
import { temporalStarter } from '../temporal-starter';
import { consumed, FakeSink, FakeSource, silentLogger, testMetrics } from './fakes';

/** A Temporal client stand-in: each start answers a moment later (or never, or with `failWith`). */
function fakeTemporal(answer: 'soon' | 'never' = 'soon') {
  const calls: { workflowId: string; listeners: number }[] = [];
  let signal: AbortSignal | undefined;
  const state = {
    calls,
    /** Calls answered so far (without looking at their promises, which would count as handling them). */
    answered: 0,
    /** The most calls in flight at once. */
    mostInFlight: 0,
    /** The signal whose listeners each call counts (set by the test). */
    watch(watched: AbortSignal) {
      signal = watched;
    },
    failWith: undefined as Error | undefined,
    workflow: {
      start: (_type: string, options: WorkflowStartOptions) => {
        calls.push({
          workflowId: options.workflowId,
          listeners: signal ? getEventListeners(signal, 'abort').length : 0,
        });
        state.mostInFlight = Math.max(state.mostInFlight, calls.length - state.answered);
        if (answer === 'never') return new Promise<never>(() => undefined);
        return new Promise((resolve, reject) =>
          setImmediate(() => {
            if (state.failWith) reject(state.failWith);
            else resolve({ firstExecutionRunId: `run-${options.workflowId}` });
            state.answered++;
          }),
        );
      },
    },
    connection: { withDeadline: <R>(_deadline: number | Date, fn: () => Promise<R>) => fn() },
  };
  return state;
}

const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

describe('the ingress starter: abort listeners stay bounded', () => {
  before(() => process.on('warning', onWarning));
  after(() => process.off('warning', onWarning));

  it('adds no listener per start: 10,002 starts, 96 in flight at once, through the consumer loop and the handler', async () => {
    const temporal = fakeTemporal();
    const starter = temporalStarter({
      workflow: temporal.workflow as never,
      connection: temporal.connection as never,
      callTimeoutMs: 5000,
    });
    const sink = new FakeSink();
    const handler = createEventHandler({
      identity: {
        baseline: { kind: 'Deployment', namespace: 'local', name: 'ingress' },
        sandboxName: 'pr-1',
      },
      mode: { kind: 'process-all' },
      starter,
      sharedTaskQueue: 'orders',
      workerBaseline: { kind: 'Deployment', namespace: 'local', name: 'worker' },
      deadLetters: new DeadLetterPublisher(sink, 'events.dead-letter'),
      maxEventBytes: 1024,
      logger: silentLogger,
      metrics: testMetrics(),
    });
    const source = new FakeSource();
    const loop = new ConsumerLoop({
      source,
      handle: (record, signal) => {
        temporal.watch(signal);
        return handler.handle(record, signal);
      },
      backoff: { initialMs: 10, maxMs: 10 },
      logger: silentLogger,
      onFatal: (error) => assert.fail(String(error)),
      maxInFlight: 32,
    });
    await loop.start();
    const perPartition = 3334;
    // Three partitions delivered side by side, as kafkajs does (partitionsConsumedConcurrently).
    await Promise.all(
      [0, 1, 2].map(async (partition) => {
        for (let offset = 0; offset < perPartition; offset++) {
          await source.deliver(consumed({ partition, offset: String(offset), key: null }));
        }
      }),
    );
    await pollUntil(() => loop.handling === 0, { description: 'every start to finish', timeoutMs: 30_000 });
    await loop.stop();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick

    assert.equal(temporal.calls.length, 3 * perPartition);
    assert.equal(temporal.mostInFlight, 96, '32 in flight per partition, 3 partitions');
    assert.equal(sink.of('events.dead-letter').length, 0);
    const most = Math.max(...temporal.calls.map((c) => c.listeners));
    assert.ok(most <= 1, `at most one abort listener at a time, saw ${most}`);
    assert.deepEqual(
      warnings.map((w) => `${w.name}: ${w.message}`),
      [],
      'no MaxListenersExceededWarning',
    );
  });

  it('adds none for failed starts either, and keeps no listener once they settle', async () => {
    const temporal = fakeTemporal();
    temporal.failWith = new Error('unavailable');
    const starter = temporalStarter({
      workflow: temporal.workflow as never,
      connection: temporal.connection as never,
      callTimeoutMs: 5000,
    });
    const abort = new AbortController();
    temporal.watch(abort.signal);
    for (let round = 0; round < 100; round++) {
      const starts = Array.from({ length: 100 }, (_, i) =>
        starter.start('processOrder', { workflowId: `f-${round}-${i}`, taskQueue: 'q' }, abort.signal),
      );
      const results = await Promise.allSettled(starts);
      assert.ok(results.every((r) => r.status === 'rejected'));
    }
    assert.equal(temporal.calls.length, 10_000);
    assert.ok(Math.max(...temporal.calls.map((c) => c.listeners)) <= 1);
    assert.ok(getEventListeners(abort.signal, 'abort').length <= 1);
  });

  it('gives up on every start in flight when the signal aborts, and leaves no call unobserved', async () => {
    const temporal = fakeTemporal('never');
    const starter = temporalStarter({
      workflow: temporal.workflow as never,
      connection: temporal.connection as never,
      callTimeoutMs: 5000,
    });
    const abort = new AbortController();
    const starts = Array.from({ length: 20 }, (_, i) =>
      starter.start('processOrder', { workflowId: `a-${i}`, taskQueue: 'q' }, abort.signal),
    );
    abort.abort(new Error('stopping'));
    const results = await Promise.allSettled(starts);
    assert.deepEqual(
      results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'resolved')),
      Array(20).fill('stopping'),
    );
    // A start asked for after the abort does not leave its call's later failure unhandled.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failing = fakeTemporal();
      failing.failWith = new Error('deadline exceeded');
      const late = temporalStarter({
        workflow: failing.workflow as never,
        connection: failing.connection as never,
        callTimeoutMs: 5000,
      });
      await assert.rejects(
        late.start('processOrder', { workflowId: 'late', taskQueue: 'q' }, abort.signal),
        /stopping/,
      );
      await pollUntil(() => failing.answered === 1, { description: 'the call to fail', timeoutMs: 5000 });
      await new Promise((resolve) => setImmediate(resolve)); // unhandled rejections are reported after the tick
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('the ingress starter at shutdown', () => {
  it('settled() waits for the starts given up on until they end, and no longer than its bound', async () => {
    let answer!: () => void;
    const pending = new Promise<{ firstExecutionRunId: string }>((resolve) => {
      answer = () => resolve({ firstExecutionRunId: 'run' });
    });
    const starter = temporalStarter({
      workflow: { start: () => pending } as never,
      connection: { withDeadline: <R>(_deadline: number | Date, fn: () => Promise<R>) => fn() } as never,
      callTimeoutMs: 5000,
    });
    const abort = new AbortController();
    const start = starter.start('processOrder', { workflowId: 's-1', taskQueue: 'q' }, abort.signal);
    abort.abort(new Error('stopping'));
    await assert.rejects(start, /stopping/);

    let settled = false;
    const waiting = starter.settled(60_000).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'the call given up on has not ended yet');
    answer();
    await waiting;
    assert.equal(settled, true);

    // A call that never ends holds the stop only up to the bound.
    const never = temporalStarter({
      workflow: { start: () => new Promise(() => undefined) } as never,
      connection: { withDeadline: <R>(_deadline: number | Date, fn: () => Promise<R>) => fn() } as never,
      callTimeoutMs: 5000,
    });
    const stuck = new AbortController();
    const given = never.start('processOrder', { workflowId: 's-2', taskQueue: 'q' }, stuck.signal);
    stuck.abort(new Error('stopping'));
    await assert.rejects(given, /stopping/);
    await never.settled(20);
  });
});
