import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, MAX_DURATION_MS, parseDurationMs } from '../duration';

describe('durations on command lines', () => {
  it('reads units, parts together and bare seconds', () => {
    assert.equal(parseDurationMs('500ms'), 500);
    assert.equal(parseDurationMs('30s'), 30_000);
    assert.equal(parseDurationMs('2m'), 120_000);
    assert.equal(parseDurationMs('1m30s'), 90_000);
    assert.equal(parseDurationMs('1h'), 3_600_000);
    assert.equal(parseDurationMs('1.5s'), 1500);
    assert.equal(parseDurationMs(' 45 '), 45_000, 'a bare number is seconds');
  });

  it('refuses what is not a duration, 0, and more than the limit, saying what it expects', () => {
    for (const bad of ['', 'abc', '30x', '-5s', '1 m', 's30', '1e3']) {
      assert.throws(() => parseDurationMs(bad), /expected a duration such as 500ms, 30s, 2m/, bad);
    }
    for (const bad of ['0', '0s', '0.0001ms', '7h']) {
      assert.throws(() => parseDurationMs(bad), /expected a duration above 0 and at most 6h/, bad);
    }
    assert.equal(parseDurationMs('6h'), MAX_DURATION_MS);
    assert.throws(() => parseDurationMs('2m', 60_000), /at most 1m\./);
  });

  it('formats milliseconds so that they read back the same', () => {
    for (const [ms, text] of [
      [60_000, '1m'],
      [90_000, '90s'],
      [600_000, '10m'],
      [MAX_DURATION_MS, '6h'],
      [1500, '1500ms'],
    ] as const) {
      assert.equal(formatDuration(ms), text);
      assert.equal(parseDurationMs(text), ms);
    }
  });
});
