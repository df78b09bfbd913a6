import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConsumerSummary, parseProducerSummary } from '../kafka-perf';
import { type EventTiming, judgeStep, stepResult, throughputOf } from '../steps';

/** `count` events at `rate`/s alternating owners, with latency `latency(i)` (null: never completed). */
function events(rate: number, count: number, latency: (i: number) => number | null): EventTiming[] {
  return Array.from({ length: count }, (_, i) => ({
    owner: i % 2 === 0 ? 'baseline' : 'sandbox',
    sentAtMs: (i * 1000) / rate,
    latencyMs: latency(i),
  }));
}

describe('benchmark steps', () => {
  it('a flat latency keeps up at the offered rate, whatever its level', () => {
    for (const level of [100, 5000]) {
      const timings = events(20, 400, (i) => level + (i % 7));
      assert.ok(Math.abs(throughputOf(timings) - 20) < 1, `throughput at ${level} ms`);
      assert.deepEqual(judgeStep(20, timings), { sustained: true, verdict: 'kept up' });
    }
  });

  it('a growing backlog is not sustained: capacity 10/s offered 20/s', () => {
    // Each event finishes when the server gets to it: at 10/s, so the wait grows by 50 ms per event.
    const timings = events(20, 400, (i) => 100 + i * 50);
    const judged = judgeStep(20, timings);
    assert.equal(judged.sustained, false);
    assert.match(judged.verdict, /backlog|completed/);
    assert.ok(Math.abs(throughputOf(timings) - 10) < 1.5, `${throughputOf(timings)}`);
  });

  it('a lost event fails the step; percentiles are per owner', () => {
    const timings = events(10, 100, (i) => (i === 51 ? null : i % 2 === 0 ? 100 : 300));
    const step = stepResult(10, 10_000, timings);
    assert.equal(step.sustained, false);
    assert.equal(step.lost, 1);
    assert.deepEqual(step.latency.baseline, { p50: 100, p99: 100, max: 100 });
    assert.deepEqual(step.latency.sandbox, { p50: 300, p99: 300, max: 300 });
  });

  it("reads Kafka's perf tools' summaries", () => {
    const producer = parseProducerSummary(
      'junk\n50000 records sent, 27579.2 records/sec (6.58 MB/sec), 455.62 ms avg latency, 713.00 ms max latency, 497 ms 50th, 600 ms 95th, 640 ms 99th, 700 ms 99.9th.\n',
    );
    assert.deepEqual(producer, { recordsPerSecond: 27579.2, avg: 455.62, max: 713, p50: 497, p99: 640 });
    const consumer = parseConsumerSummary(
      'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n2026-12-01 15:52:06:107, 2026-12-01 15:52:07:434, 4.7684, 3.5933, 20000, 15071.5901, 896, 431, 11.0635, 46403.7123\n',
    );
    assert.equal(consumer, 15071.5901);
    assert.throws(() => parseProducerSummary('nothing here'), /no summary line/);
  });
});
