import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '@sandbox-routing/kafka';
import { createLogger } from '@sandbox-routing/service-kit';
import { pollUntil } from '@sandbox-routing/testkit';
import { ConsumerLoop, type Outcome } from '../consumer-loop';
import { OffsetTracker } from '../offsets';
import type { ConsumedRecord } from '../records';
import { consumed, FakeSource, settle, silentLogger } from '../testing';

const at = (partition: number, offset: number): ConsumedRecord =>
  consumed({ partition, offset: String(offset) });

function loop(
  handle: (record: ConsumedRecord, signal: AbortSignal) => Promise<Outcome>,
  extra: { onFatal?: (error: unknown) => void; backoffMs?: number } = {},
) {
  const source = new FakeSource();
  const backoffs: (string | undefined)[] = [];
  const consumer = new ConsumerLoop({
    source,
    handle,
    backoff: { initialMs: extra.backoffMs ?? 5, maxMs: extra.backoffMs ?? 5 },
    logger: silentLogger,
    onFatal: extra.onFatal ?? (() => assert.fail('not fatal')),
    onBackoff: (_, operation) => backoffs.push(operation),
    commitRetryMs: 5,
    // Each commit at once: these tests look at what is committed, not when (see the spacing test).
    commitIntervalMs: 0,
    random: () => 0.5,
  });
  return { source, consumer, backoffs };
}

const done: Outcome = { status: 'done', action: 'started' };

/** A loop whose every record waits for Temporal (down), with a back-off longer than any test. */
function loopWithTemporalDown() {
  return loop(async () => ({ status: 'retry', operation: 'workflow start', error: new Error('down') }), {
    backoffMs: 60_000,
  });
}

describe('ConsumerLoop', () => {
  it('commits, per partition, the offset after each record done', async () => {
    const { source, consumer } = loop(async () => done);
    await consumer.start();
    await source.deliver(at(0, 10));
    await source.deliver(at(1, 3));
    await source.deliver(at(0, 11));
    await settle();
    assert.equal(source.committedAt(0), '12');
    assert.equal(source.committedAt(1), '4');
  });

  it('spaces commits by commitIntervalMs: records done meanwhile go in the next commit, and stop commits the rest at once', async () => {
    const source = new FakeSource();
    const consumer = new ConsumerLoop({
      source,
      handle: async () => done,
      backoff: { initialMs: 5, maxMs: 5 },
      logger: silentLogger,
      onFatal: () => assert.fail('not fatal'),
      commitIntervalMs: 60_000,
      maxInFlight: 10,
    });
    await consumer.start();
    for (let offset = 0; offset < 5; offset++) await source.deliver(at(0, offset));
    await settle();
    // The first record's commit went at once; the next one waits out the interval.
    await pollUntil(() => source.commits.length === 1, { description: 'the first commit', timeoutMs: 5_000 });
    await settle();
    assert.equal(source.commits.length, 1, 'one commit within the interval');
    for (let offset = 5; offset < 50; offset++) await source.deliver(at(0, offset));
    await settle();
    assert.equal(source.commits.length, 1, 'still one commit for 50 records done');
    // Waiting out the interval would take stop past its 3 s for the last commit: nothing committed.
    await consumer.stop();
    assert.equal(source.commits.length, 2, 'stop committed the rest in one request');
    assert.equal(source.committedAt(0), '50');
  });

  it('pauses the partition rewound to a record that must wait, resumes it after the back-off, and commits nothing past it', async () => {
    let attempts = 0;
    const { source, consumer, backoffs } = loop(async (record) => {
      if (record.offset === '5' && attempts++ < 2) {
        return { status: 'retry', operation: 'workflow start', error: new Error('UNAVAILABLE') };
      }
      return done;
    });
    await consumer.start();
    await source.deliver(at(0, 4));
    await source.deliver(at(0, 5));
    assert.deepEqual(source.pauses, [{ partition: 0, fromOffset: '5' }]);
    assert.equal(consumer.backingOff, 1);
    await pollUntil(() => source.resumes.length === 1, {
      description: 'the resume after the back-off',
      timeoutMs: 5_000,
      intervalMs: 2,
    });
    assert.deepEqual(source.resumes, [0], 'resumed after the back-off');
    await source.deliver(at(0, 5)); // delivered again, fails again
    await pollUntil(() => source.resumes.length === 2, {
      description: 'the second resume',
      timeoutMs: 5_000,
      intervalMs: 2,
    });
    await settle();
    assert.equal(source.committedAt(0), '5', 'never past the waiting record');
    await source.deliver(at(0, 5)); // third time lucky
    await source.deliver(at(0, 6));
    await settle();
    assert.equal(source.committedAt(0), '7');
    assert.equal(consumer.backingOff, 0);
    assert.deepEqual(backoffs, ['workflow start', undefined]);
  });

  it('lets one partition go on while another waits for its record (partitions handled concurrently)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { source, consumer } = loop(async (record) => {
      if (record.partition === 0) await held;
      return done;
    });
    await consumer.start();
    const slow = source.deliver(at(0, 7));
    await source.deliver(at(1, 3));
    await settle();
    assert.equal(source.committedAt(1), '4', 'partition 1 committed');
    assert.equal(source.committedAt(0), undefined, 'partition 0 still in hand');
    release();
    await slow;
    await settle();
    assert.equal(source.committedAt(0), '8');
  });

  it('stops the partition and reports a record whose handling throws', async () => {
    const fatal: unknown[] = [];
    const { source, consumer } = loop(
      async () => {
        throw new Error('dead-letter topic refuses writes');
      },
      { onFatal: (error) => fatal.push(error) },
    );
    await consumer.start();
    await source.deliver(at(2, 7));
    assert.equal(fatal.length, 1);
    assert.deepEqual(source.pauses, [{ partition: 2, fromOffset: '7' }]);
    assert.equal(source.committedAt(2), undefined);
  });

  it('stops cleanly, never with an unhandled rejection, when its own bookkeeping fails (the source refuses a pause)', async () => {
    const fatal: unknown[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { source, consumer } = loop(
        async () => ({ status: 'retry', operation: 'workflow start', error: new Error('deadline') }),
        { onFatal: (error) => fatal.push(error) },
      );
      source.pause = () => {
        throw new Error('Consumer group was not initialized, consumer#run must be called first');
      };
      await consumer.start();
      await source.deliver(at(0, 1));
      await pollUntil(() => fatal.length === 1, { description: 'the failure reported', timeoutMs: 2000 });
      await settle();
      assert.deepEqual(unhandled, []);
      assert.match(String(fatal[0]), /not initialized/);
      assert.equal(source.committedAt(0), undefined, 'nothing committed past the record');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('says once that a partition waits, with the attempts when it repeats, and once when it goes on', async () => {
    const lines: { level: number; msg: string; attempt?: number; attempts?: number }[] = [];
    const logger = createLogger({ logLevel: 'info', serviceName: 'test' }, undefined, {
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    });
    let temporalDown = true;
    const source = new FakeSource();
    const consumer = new ConsumerLoop({
      source,
      handle: async () =>
        temporalDown
          ? { status: 'retry', operation: 'workflow start', error: new Error('deadline exceeded') }
          : done,
      backoff: { initialMs: 1, maxMs: 1 },
      logger,
      onFatal: () => assert.fail('not fatal'),
      random: () => 0.5,
    });
    await consumer.start();
    const record = at(0, 3);
    // Temporal is away for 20 attempts: each one is delivered again after its back-off.
    for (let attempt = 1; attempt <= 20; attempt++) {
      const resumes = source.resumes.length;
      await source.deliver(record);
      await pollUntil(() => source.resumes.length > resumes, {
        description: 'the back-off to end',
        timeoutMs: 2000,
      });
    }
    temporalDown = false;
    await source.deliver(record);
    await settle();
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg]),
      [
        [40, 'workflow start failed; partition paused, retrying'],
        [30, 'partition resumed after 20 failed attempts (workflow start)'],
      ],
    );
  });

  it('offers a failed commit again', async () => {
    const { source, consumer } = loop(async () => done);
    source.failCommits = 1;
    await consumer.start();
    await source.deliver(at(0, 1));
    await pollUntil(() => source.committedAt(0) === '2', {
      description: 'the commit offered again',
      timeoutMs: 5_000,
      intervalMs: 2,
    });
  });

  it('stops within the record in hand: interrupts it, leaves it uncommitted, commits what was done, leaves the group', async () => {
    let started!: () => void;
    const inHand = new Promise<void>((resolve) => {
      started = resolve;
    });
    const { source, consumer } = loop(async (record, signal) => {
      if (record.offset === '2') {
        started();
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return { status: 'stopped' };
      }
      return done;
    });
    await consumer.start();
    await source.deliver(at(0, 1));
    const delivering = source.deliver(at(0, 2));
    await inHand;
    await consumer.stop();
    await delivering;
    assert.equal(source.committedAt(0), '2', 'offset 1 done, offset 2 not');
    assert.equal(source.stopped, true);
    await source.deliver(at(0, 3));
    assert.equal(source.committedAt(0), '2', 'nothing handled after stop');
  });

  it('commits nothing for a partition whose first record is still waiting, not even at shutdown', async () => {
    const { source, consumer } = loopWithTemporalDown();
    await consumer.start();
    await source.deliver(at(1, 0));
    await consumer.stop();
    assert.equal(source.committedAt(1), undefined);
  });

  it('does not wait for a back-off to stop', async () => {
    const { source, consumer } = loopWithTemporalDown();
    await consumer.start();
    await source.deliver(at(0, 1));
    const started = performance.now();
    await consumer.stop();
    assert.ok(performance.now() - started < 1000);
    assert.deepEqual(source.resumes, [], 'the back-off timer was cleared');
  });
});

describe('OffsetTracker', () => {
  const p0 = { topic: 't', partition: 0 };

  it('commits only the contiguous prefix of finished offsets, whatever finishes first', () => {
    const tracker = new OffsetTracker();
    for (const offset of ['10', '11', '12']) tracker.begin(p0, offset);
    tracker.finish(p0, '12');
    tracker.finish(p0, '11');
    assert.deepEqual(tracker.committable(), [], 'no progress while the first one is not done');
    tracker.finish(p0, '10');
    assert.deepEqual(tracker.committable(), [{ ...p0, nextOffset: '13' }]);
    assert.deepEqual(tracker.committable(), [], 'nothing new');
  });

  it('skips gaps in offsets (compaction, control records)', () => {
    const tracker = new OffsetTracker();
    tracker.begin(p0, '5');
    tracker.finish(p0, '5');
    tracker.begin(p0, '9');
    tracker.finish(p0, '9');
    assert.deepEqual(tracker.committable(), [{ ...p0, nextOffset: '10' }]);
  });

  it('offers an uncommitted position again, and forgets everything on reset', () => {
    const tracker = new OffsetTracker();
    tracker.begin(p0, '1');
    tracker.finish(p0, '1');
    const [position] = tracker.committable();
    assert.ok(position);
    tracker.uncommitted(position);
    assert.deepEqual(tracker.committable(), [position]);
    tracker.reset();
    assert.deepEqual(tracker.committable(), []);
  });
});

describe('backoffDelay', () => {
  it('doubles up to the cap, with equal jitter (never below half)', () => {
    const policy = { initialMs: 200, maxMs: 5000 };
    const cases: [attempt: number, random: number, delay: number][] = [
      [1, 0, 100],
      [1, 1, 200],
      [3, 1, 800],
      [10, 0, 2500],
      [1000, 1, 5000],
    ];
    for (const [attempt, random, delay] of cases) {
      assert.equal(
        backoffDelay(policy, attempt, () => random),
        delay,
        `attempt ${attempt}`,
      );
    }
  });
});
