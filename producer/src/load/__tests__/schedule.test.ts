import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_EVENTS_PER_OWNER, RateSchedule, ScheduleTooLargeError, stageEvents } from '../schedule';

describe('RateSchedule', () => {
  it('spaces a flat rate evenly: 10/s for 3 s is 30 events 100 ms apart', () => {
    const schedule = new RateSchedule([{ from: 10, to: 10, durationMs: 3000 }]);
    assert.equal(schedule.size, 30);
    assert.equal(schedule.durationMs, 3000);
    assert.deepEqual([...schedule.dueMs.slice(0, 3)], [0, 100, 200]);
    assert.ok(Math.abs((schedule.dueMs[29] as number) - 2900) < 1e-6);
  });

  it('ramps linearly: 10..30/2s sends the integral, 40 events, closer together as the rate grows', () => {
    const schedule = new RateSchedule([{ from: 10, to: 30, durationMs: 2000 }]);
    assert.equal(schedule.size, 40);
    const gaps = [...schedule.dueMs].slice(1).map((t, i) => t - (schedule.dueMs[i] as number));
    assert.ok((gaps[0] as number) > (gaps.at(-1) as number), 'gaps shrink');
    assert.ok(Math.abs((gaps[0] as number) - 100) < 10, 'about 1/10 s at first');
    assert.ok(Math.abs((gaps.at(-1) as number) - 1000 / 30) < 3, 'about 1/30 s at the end');
    assert.ok(Math.abs(schedule.rateAt(1000) - 20) < 1e-9);
  });

  it('runs stages one after the other, and ramps from or down to zero', () => {
    const schedule = new RateSchedule([
      { from: 0, to: 20, durationMs: 1000 },
      { from: 5, to: 5, durationMs: 2000 },
      { from: 20, to: 0, durationMs: 1000 },
    ]);
    assert.equal(schedule.size, 10 + 10 + 10);
    assert.equal(schedule.durationMs, 4000);
    assert.ok((schedule.dueMs[10] as number) >= 1000 && (schedule.dueMs[19] as number) < 3000);
    assert.ok((schedule.dueMs[20] as number) >= 3000 && (schedule.dueMs[29] as number) < 4000);
    assert.equal(schedule.rateAt(5000), 0);
    assert.equal(schedule.dueBy(-1), 0);
    assert.equal(schedule.dueBy(999.999), 10);
    assert.equal(schedule.dueBy(10_000), 30);
  });

  it('keeps due times ascending inside each stage and counts the integral, for any stages', () => {
    const stage = fc.record({
      from: fc.double({ min: 0, max: 500, noNaN: true }),
      to: fc.double({ min: 0, max: 500, noNaN: true }),
      durationMs: fc.integer({ min: 1, max: 20_000 }),
    });
    fc.assert(
      fc.property(fc.array(stage, { minLength: 1, maxLength: 4 }), (stages) => {
        const schedule = new RateSchedule(stages);
        assert.equal(
          schedule.size,
          stages.reduce((sum, s) => sum + stageEvents(s), 0),
        );
        for (let i = 1; i < schedule.size; i++) {
          assert.ok((schedule.dueMs[i] as number) >= (schedule.dueMs[i - 1] as number) - 1e-6);
        }
        if (schedule.size > 0) assert.ok((schedule.dueMs.at(-1) as number) <= schedule.durationMs + 1e-6);
      }),
    );
  });

  it('refuses to plan more events than it can track', () => {
    assert.throws(
      () => new RateSchedule([{ from: 10_000, to: 10_000, durationMs: 3_600_000 }]),
      (error: unknown) => error instanceof ScheduleTooLargeError && error.events > MAX_EVENTS_PER_OWNER,
    );
  });
});
