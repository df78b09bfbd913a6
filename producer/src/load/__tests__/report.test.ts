import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownerSeries } from '../chart';
import { LatencyRecorder } from '../latency';
import { keptUpWith, type OwnerReport, type RunFacts } from '../report';
import { RateSchedule } from '../schedule';
import { lineChart } from '../svg-chart';
import type { EventOutcome } from '../tracker';

const SEND_START = 1_000_000;

function facts(schedule: RateSchedule): RunFacts {
  return {
    runId: 'r',
    idPrefix: 'load-r-',
    startedAt: SEND_START,
    sendStart: SEND_START,
    sendEnd: SEND_START + schedule.durationMs,
    finishedAt: SEND_START + schedule.durationMs + 30_000,
    interrupted: false,
    topic: 'events',
    eventType: 'order.created',
    schedule,
    drainTimeoutMs: 30_000,
    sendLag: new LatencyRecorder(),
    backlog: null,
    temporal: null,
  };
}

/** Every event of the schedule for each owner, sent on time, with latency `latency(dueMs)` (null: none). */
function outcomes(schedule: RateSchedule, owners: number, latency: (dueMs: number) => number | null) {
  const all: EventOutcome[] = [];
  for (let owner = 0; owner < owners; owner++) {
    schedule.dueMs.forEach((due, seq) => {
      const latencyMs = latency(due);
      all.push({
        eventId: `load-r-${owner}-${seq + 1}`,
        owner,
        sentAt: SEND_START + due,
        acked: true,
        sendFailed: false,
        retried: false,
        latencyMs,
        completedAt: latencyMs === null ? null : SEND_START + due + latencyMs,
        failed: false,
        deadLettered: false,
        unfinished: latencyMs === null,
        misplaced: [],
        duplicate: false,
      });
    });
  }
  return all;
}

describe('the highest rate the pipeline kept up with', () => {
  it('a flat run is one step of the bench: kept up at its rate, every owner together', () => {
    const schedule = new RateSchedule([{ from: 5, to: 5, durationMs: 60_000 }]);
    const keptUp = keptUpWith(
      outcomes(schedule, 2, (due) => 800 + (due % 300)),
      ['baseline', 'pr-101'],
      facts(schedule),
    );
    assert.equal(keptUp.rate, 10);
    assert.equal(keptUp.verdict, 'kept up throughout');
    assert.equal(keptUp.windows.length, 1);
    assert.equal(keptUp.windows[0]?.sustained, true);
  });

  it('a ramp is judged window by window, up to the first it fell behind in', () => {
    // 10 → 50 events/s over 40 s: four windows offering 15, 25, 35 and 45 events/s. From 20 s on,
    // every event waits longer than the one before: a backlog.
    const schedule = new RateSchedule([{ from: 10, to: 50, durationMs: 40_000 }]);
    const keptUp = keptUpWith(
      outcomes(schedule, 1, (due) => (due < 20_000 ? 200 + (due % 50) : 200 + (due - 20_000) / 2)),
      ['baseline'],
      facts(schedule),
    );
    assert.deepEqual(
      keptUp.windows.map((w) => [w.fromS, w.toS, w.offeredRate, w.sustained]),
      [
        [0, 10, 15, true],
        [10, 20, 25, true],
        [20, 30, 35, false],
        [30, 40, 45, null],
      ],
    );
    assert.equal(keptUp.rate, 25);
    // Falling behind shows in the throughput first, here, as the bench would say it.
    assert.equal(keptUp.verdict, `from 20 s at 35/s: ${keptUp.windows[2]?.verdict}`);
    assert.match(keptUp.windows[2]?.verdict ?? '', /^completed [\d.]+\/s of 35\/s offered$/);
  });

  it('events not completed by the end of the drain: not kept up, as the bench says', () => {
    const schedule = new RateSchedule([{ from: 4, to: 4, durationMs: 10_000 }]);
    const keptUp = keptUpWith(
      outcomes(schedule, 1, (due) => (due > 9000 ? null : 300)),
      ['baseline'],
      facts(schedule),
    );
    assert.equal(keptUp.rate, null);
    assert.equal(keptUp.verdict, 'from 0 s at 4/s: 3 not completed by the end of the drain');
  });

  it('too few events say nothing', () => {
    const schedule = new RateSchedule([{ from: 2, to: 2, durationMs: 2000 }]);
    const keptUp = keptUpWith(
      outcomes(schedule, 1, () => 300),
      ['baseline'],
      facts(schedule),
    );
    assert.equal(keptUp.rate, null);
    assert.equal(keptUp.verdict, 'too few events to judge (fewer than 10 per window)');
  });
});

describe('the chart', () => {
  const owner = {
    timeline: [
      {
        startS: 0,
        plannedRate: 5,
        sent: 10,
        completed: 8,
        notCompleted: 2,
        p50: 300,
        p99: 900,
        max: 950,
        completionsDuring: 4,
      },
      {
        startS: 2,
        plannedRate: 5,
        sent: 10,
        completed: 10,
        notCompleted: 0,
        p50: 310,
        p99: 800,
        max: 820,
        completionsDuring: 12,
      },
    ],
  } as OwnerReport;

  it('draws each series in its own colour: p99 and max apart', () => {
    const series = ownerSeries(owner);
    const colours = series.map((s) => s.color);
    assert.equal(new Set(colours).size, colours.length, JSON.stringify(series.map((s) => [s.name, s.color])));
  });

  it('plots what was not completed per second, on the rate axis, as dots', () => {
    const notCompleted = ownerSeries(owner).find((s) => s.name === 'not completed /s');
    assert.ok(notCompleted);
    assert.equal(notCompleted.right, true);
    assert.equal(notCompleted.dots, true);
    // 2 events in a 2 s slice: 1 per second, like completed/s beside it.
    assert.deepEqual(notCompleted.points, [
      [0, 1],
      [2, null],
    ]);
  });

  it('draws a series of dots as a dot in the legend, and a line as a line', () => {
    const svg = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        { name: 'dotted', points: [[0, 1]], color: '#123456', dots: true },
        { name: 'lined', points: [[0, 1]], color: '#654321' },
      ],
    });
    assert.match(svg, /<circle cx="[\d.]+" cy="[\d.]+" r="3" fill="#123456"\/><text[^>]*>dotted<\/text>/);
    assert.doesNotMatch(svg, /<line[^>]*stroke="#123456"/, 'no line in the key of a series of dots');
    assert.match(svg, /<line[^>]*stroke="#654321"[^>]*\/><text[^>]*>lined<\/text>/);
  });
});
