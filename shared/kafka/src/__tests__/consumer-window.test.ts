import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pollUntil } from '@sandbox-routing/testkit';
import fc from 'fast-check';
import { ConsumerLoop, type Outcome } from '../consumer-loop';
import type { ConsumedRecord } from '../records';
import { consumed, FakeSource, settle, silentLogger } from '../testing';

/**
 * The consumer loop with many records in hand per partition: the commit never passes an unfinished
 * record, whatever order they finish in; records of one key keep their order; a control record is
 * handled alone; and a crash in the middle of a window loses nothing and starts nothing twice.
 */

const done: Outcome = { status: 'done', action: 'started' };

/** A handler whose outcomes the test releases one by one. */
function controlled() {
  const waiting = new Map<string, (outcome: Outcome) => void>();
  const order: string[] = [];
  return {
    order,
    waiting,
    handle: (record: ConsumedRecord) =>
      new Promise<Outcome>((resolve) => {
        order.push(record.offset);
        waiting.set(record.offset, resolve);
      }),
    release(offset: number | string, outcome: Outcome = done) {
      const resolve = waiting.get(String(offset));
      assert.ok(resolve, `offset ${offset} is not in hand`);
      waiting.delete(String(offset));
      resolve(outcome);
    },
  };
}

function loopWith(
  handle: (record: ConsumedRecord, signal: AbortSignal) => Promise<Outcome>,
  maxInFlight: number,
  extra: { isBarrier?: (record: ConsumedRecord) => boolean } = {},
) {
  const source = new FakeSource();
  const consumer = new ConsumerLoop({
    source,
    handle,
    backoff: { initialMs: 5, maxMs: 5 },
    logger: silentLogger,
    onFatal: () => assert.fail('not fatal'),
    commitRetryMs: 5,
    // Each commit at once: these tests look at what is committed, not when.
    commitIntervalMs: 0,
    maxInFlight,
    isBarrier: extra.isBarrier,
    random: () => 0.5,
  });
  return { source, consumer };
}

const record = (offset: number, key?: string, partition = 0): ConsumedRecord =>
  consumed({ partition, offset: String(offset), ...(key === undefined ? {} : { key: Buffer.from(key) }) });

describe('ConsumerLoop with records in flight', () => {
  it('keeps up to maxInFlight records of a partition in hand; the delivery that fills the window waits', async () => {
    const handler = controlled();
    const { source, consumer } = loopWith(handler.handle, 3);
    await consumer.start();
    for (const offset of [0, 1]) await source.deliver(record(offset));
    let thirdReturned = false;
    const third = source.deliver(record(2)).then(() => {
      thirdReturned = true;
    });
    await settle();
    assert.equal(consumer.handling, 3, 'three in hand');
    assert.equal(thirdReturned, false, 'the window is full: the client waits before the next record');
    handler.release(1);
    await third;
    const fourth = source.deliver(record(3));
    await settle();
    assert.deepEqual(handler.order, ['0', '1', '2', '3']);
    for (const offset of [0, 2, 3]) handler.release(offset);
    await fourth;
    await settle();
    assert.equal(source.committedAt(0), '4');
    await consumer.stop();
  });

  it('commits only the contiguous prefix of finished offsets, whatever order they finish in', async () => {
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray([...Array(12).keys()], { minLength: 12 }), async (finishOrder) => {
        const handler = controlled();
        const { source, consumer } = loopWith(handler.handle, 13);
        await consumer.start();
        for (let offset = 100; offset < 112; offset++) await source.deliver(record(offset));
        const finished = new Set<number>();
        for (const index of finishOrder) {
          handler.release(100 + index);
          finished.add(100 + index);
          await settle();
          let firstUnfinished = 100;
          while (finished.has(firstUnfinished)) firstUnfinished++;
          const committed = Number(source.committedAt(0) ?? 100);
          assert.ok(
            committed <= firstUnfinished,
            `committed ${committed} past unfinished ${firstUnfinished}`,
          );
          assert.equal(committed, firstUnfinished, 'and commits as far as it may');
        }
        await consumer.stop();
      }),
      { numRuns: 25 },
    );
  });

  it('handles records of one key in offset order, and holds a key back behind its record that must wait', async () => {
    const handler = controlled();
    const { source, consumer } = loopWith(handler.handle, 8);
    await consumer.start();
    await source.deliver(record(0, 'order-1'));
    await source.deliver(record(1, 'order-2'));
    await source.deliver(record(2, 'order-1'));
    await settle();
    assert.deepEqual(handler.order, ['0', '1'], 'offset 2 waits for offset 0 (same key)');
    handler.release(0, { status: 'retry', operation: 'workflow start', error: new Error('UNAVAILABLE') });
    await settle();
    assert.deepEqual(handler.order, ['0', '1'], 'offset 2 is not started while 0 must wait');
    assert.deepEqual(
      source.pauses,
      [{ partition: 0, fromOffset: '0' }],
      'rewound to the lowest waiting record',
    );
    handler.release(1);
    await settle();
    assert.equal(source.committedAt(0), undefined, 'nothing committed past offset 0');
    // After the back-off the partition comes again from offset 0: 1 is done already, 0 then 2 run.
    await pollUntil(() => source.resumes.length > 0, {
      description: 'the resume after the back-off',
      timeoutMs: 5_000,
      intervalMs: 2,
    });
    for (const offset of [0, 1, 2])
      await source.deliver(record(offset, offset === 1 ? 'order-2' : 'order-1'));
    await settle();
    assert.deepEqual(handler.order, ['0', '1', '0'], 'offset 1 is not handled twice; 2 waits for 0 again');
    handler.release(0);
    await settle();
    assert.deepEqual(handler.order, ['0', '1', '0', '2']);
    handler.release(2);
    await settle();
    assert.equal(source.committedAt(0), '3');
    await consumer.stop();
  });

  it('handles a control record alone: after everything before it, before anything after it', async () => {
    const handler = controlled();
    const isBarrier = (r: ConsumedRecord) => r.offset === '2';
    const { source, consumer } = loopWith(handler.handle, 8, { isBarrier });
    await consumer.start();
    await source.deliver(record(0));
    await source.deliver(record(1));
    const fence = source.deliver(record(2));
    await settle();
    assert.deepEqual(handler.order, ['0', '1'], 'the fence waits for 0 and 1');
    handler.release(1);
    handler.release(0);
    await settle();
    assert.deepEqual(handler.order, ['0', '1', '2']);
    let afterFence = false;
    void fence.then(() => {
      afterFence = true;
    });
    await settle();
    assert.equal(afterFence, false, 'the delivery after the fence waits for it');
    handler.release(2);
    await fence;
    await source.deliver(record(3));
    await settle();
    assert.deepEqual(handler.order, ['0', '1', '2', '3']);
    handler.release(3);
    await consumer.stop();
  });

  it('a crash in the middle of a window loses nothing and starts nothing twice', async () => {
    // Temporal as the ingress sees it: a start of an id that exists is "already started" (a duplicate).
    const workflows = new Map<string, number>();
    const life = { dead: false };
    const start =
      (alive: () => boolean) =>
      async (r: ConsumedRecord): Promise<Outcome> => {
        await new Promise((resolve) => setTimeout(resolve, Number(r.offset) % 5));
        if (!alive()) return new Promise<Outcome>(() => undefined); // the process is gone: nothing more happens
        const id = String(r.key);
        if (workflows.has(id)) return { status: 'done', action: 'duplicate' };
        workflows.set(id, Number(r.offset));
        return done;
      };
    const events = Array.from({ length: 200 }, (_, i) => record(i, `e-${i}`));
    // First life: 16 in flight; it dies (no stop, no last commit) after 120 deliveries.
    const first = loopWith(
      start(() => !life.dead),
      16,
    );
    await first.consumer.start();
    for (const event of events.slice(0, 120)) await first.source.deliver(event);
    life.dead = true;
    const committed = Number(first.source.committedAt(0) ?? 0);
    assert.ok(committed > 0 && committed <= 120, `committed ${committed}`);
    // Second life: Kafka delivers again from the committed offset.
    const second = loopWith(
      start(() => true),
      16,
    );
    await second.consumer.start();
    for (const event of events.slice(committed)) await second.source.deliver(event);
    await second.consumer.stop();
    assert.equal(second.source.committedAt(0), '200');
    assert.equal(workflows.size, 200, 'every event started once');
    for (const [id, offset] of workflows) assert.equal(id, `e-${offset}`);
  });

  it('a record failing after the back-off ended rewinds no further than an earlier one not yet delivered again', async () => {
    // Seen in the soak during a Temporal restart: offset 168 failed, its back-off ended and the partition
    // resumed; then 175, still in hand, failed and rewound the partition to 175. 168-174 were never
    // delivered again.
    const handler = controlled();
    const { source, consumer } = loopWith(handler.handle, 8);
    await consumer.start();
    for (const offset of [0, 1, 2]) await source.deliver(record(offset));
    const down: Outcome = { status: 'retry', operation: 'workflow start', error: new Error('down') };
    handler.release(0, down);
    await pollUntil(() => source.resumes.length === 1, {
      description: 'the back-off of offset 0 to end',
      timeoutMs: 5_000,
      intervalMs: 1,
    });
    handler.release(1, down);
    await settle();
    assert.deepEqual(
      source.pauses.map((p) => p.fromOffset),
      ['0', '0'],
      'offset 1 rewinds to 0, which has not come again',
    );
    // Offset 0 comes again (the rewind reached it); from then on a failure rewinds to itself.
    await source.deliver(record(0));
    handler.release(2, down);
    await settle();
    assert.equal(source.pauses.at(-1)?.fromOffset, '2');
    for (const offset of [0, 1]) await source.deliver(record(offset));
    await source.deliver(record(2));
    for (const offset of [0, 1, 2]) handler.release(offset);
    await pollUntil(() => source.committedAt(0) === '3', {
      description: 'every record done and committed',
      timeoutMs: 5_000,
      intervalMs: 1,
    });
    await consumer.stop();
  });
});
