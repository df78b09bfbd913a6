import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startOffsets } from '../kafka';
import { ReadPositions } from '../positions';

describe('ReadPositions: where the trail reader goes on after each join', () => {
  it('starts where the topic ended when it started, whenever the first join comes', () => {
    const positions = new ReadPositions([
      { partition: 0, offset: '17' },
      { partition: 1, offset: '0' },
    ]);
    assert.deepEqual(positions.seeks([0, 1]), [
      { partition: 0, offset: '17' },
      { partition: 1, offset: '0' },
    ]);
  });

  it('after a rejoin, goes on after the last message read, in every partition', () => {
    const positions = new ReadPositions([
      { partition: 0, offset: '17' },
      { partition: 1, offset: '5' },
    ]);
    for (const offset of ['17', '18', '19']) assert.equal(positions.read(0, offset), true);
    // Partition 1 not read from yet: still its start.
    assert.deepEqual(positions.seeks([1, 0]), [
      { partition: 1, offset: '5' },
      { partition: 0, offset: '20' },
    ]);
  });

  it('reads a partition added after the start from its beginning', () => {
    const positions = new ReadPositions([{ partition: 0, offset: '40' }]);
    assert.deepEqual(positions.seeks([0, 1]), [
      { partition: 0, offset: '40' },
      { partition: 1, offset: '0' },
    ]);
  });

  it('from the beginning: every partition not read yet starts at 0', () => {
    const positions = new ReadPositions('beginning');
    positions.read(2, '9');
    assert.deepEqual(positions.seeks([0, 2]), [
      { partition: 0, offset: '0' },
      { partition: 2, offset: '10' },
    ]);
  });

  it('skips a message delivered again (a fetch from before the seek), and offsets beyond 2^53', () => {
    const positions = new ReadPositions([{ partition: 0, offset: '9007199254740993' }]);
    assert.equal(positions.read(0, '9007199254740993'), true);
    assert.equal(positions.read(0, '9007199254740993'), false, 'the same message again');
    assert.equal(positions.read(0, '9007199254740994'), true);
    assert.deepEqual(positions.seeks([0]), [{ partition: 0, offset: '9007199254740995' }]);
  });
});

describe('startOffsets: where a reader with recent history starts', () => {
  it('goes back the last n records of each partition, never before the oldest one left', () => {
    const offsets = [
      { partition: 0, low: '0', high: '250' },
      { partition: 1, low: '0', high: '40' },
      { partition: 2, low: '900', high: '1000' },
      { partition: 3, low: '0', high: '0' },
    ];
    assert.deepEqual(startOffsets(offsets, 100), [
      { partition: 0, offset: '150' },
      { partition: 1, offset: '0' },
      { partition: 2, offset: '900' },
      { partition: 3, offset: '0' },
    ]);
    assert.deepEqual(
      startOffsets(offsets, 0).map((o) => o.offset),
      ['250', '40', '1000', '0'],
      'no history: the end',
    );
  });
});
