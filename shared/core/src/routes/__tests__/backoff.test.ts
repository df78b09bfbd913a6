import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LubyBackoff } from '../backoff';

describe('LubyBackoff', () => {
  it('follows the Luby sequence times the base step', () => {
    const backoff = new LubyBackoff({ baseMs: 100, maxMs: 100_000, jitter: 0 });
    const delays = Array.from({ length: 15 }, () => backoff.next() / 100);
    assert.deepEqual(delays, [1, 1, 2, 1, 1, 2, 4, 1, 1, 2, 1, 1, 2, 4, 8]);
  });

  it('restarts the sequence instead of exceeding the cap, and on reset', () => {
    const backoff = new LubyBackoff({ baseMs: 1000, maxMs: 3000, jitter: 0 });
    const delays = Array.from({ length: 10 }, () => backoff.next());
    assert.deepEqual(delays, [1000, 1000, 2000, 1000, 1000, 2000, 1000, 1000, 2000, 1000]);
    backoff.reset();
    assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [1000, 1000, 2000]);
    const small = new LubyBackoff({ baseMs: 1000, maxMs: 400, jitter: 0 });
    assert.equal(small.next(), 400, 'a cap below the base step caps the base step');
  });

  it('moves each delay by at most ± the jitter fraction, both ways', () => {
    const extremes = [0, 0.999_999];
    for (const [index, value] of extremes.entries()) {
      const backoff = new LubyBackoff({ baseMs: 1000, maxMs: 30_000, jitter: 0.1, random: () => value });
      assert.equal(backoff.next(), index === 0 ? 900 : 1100);
    }
    const backoff = new LubyBackoff({ baseMs: 1000, maxMs: 30_000, jitter: 0.1 });
    for (let i = 0; i < 200; i++) {
      const term = new LubyBackoff({ baseMs: 1000, maxMs: 30_000, jitter: 0 });
      for (let j = 0; j < i; j++) term.next();
      const target = term.next();
      const actual = backoff.next();
      assert.ok(Math.abs(actual - target) <= target * 0.1 + 1, `${actual} vs ${target}`);
    }
  });
});
