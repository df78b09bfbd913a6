import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapWithConcurrency } from '../map-with-concurrency';

/** A promise with its resolve function, so a test decides when each call finishes. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('mapWithConcurrency', () => {
  it('never has more than `limit` calls in flight, starts the next as one ends, keeps the order', async () => {
    const gates = Array.from({ length: 7 }, deferred);
    const started: number[] = [];
    let inFlight = 0;
    let peak = 0;
    const run = mapWithConcurrency(gates, 3, async (gate, index) => {
      started.push(index);
      inFlight++;
      peak = Math.max(peak, inFlight);
      await gate.promise;
      inFlight--;
      return `item-${index}`;
    });
    await Promise.resolve();
    assert.deepEqual(started, [0, 1, 2], 'three at once');
    // Finishing out of order frees one lane each time.
    gates[1]?.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, [0, 1, 2, 3]);
    for (const gate of gates) gate.resolve();
    assert.deepEqual(await run, ['item-0', 'item-1', 'item-2', 'item-3', 'item-4', 'item-5', 'item-6']);
    assert.equal(peak, 3);
  });

  it('handles no items and a limit above the count', async () => {
    assert.deepEqual(await mapWithConcurrency([], 4, async () => 1), []);
    assert.deepEqual(await mapWithConcurrency([1, 2], 10, async (n) => n * 2), [2, 4]);
  });

  it('refuses a limit below 1', async () => {
    await assert.rejects(
      mapWithConcurrency([1], 0, async (n) => n),
      RangeError,
    );
    await assert.rejects(
      mapWithConcurrency([1], 1.5, async (n) => n),
      RangeError,
    );
  });
});
