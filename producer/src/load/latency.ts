import * as hdr from 'hdr-histogram-js';

/** Latency percentiles of a set of events, in ms (null when there were none). */
export interface LatencySummary {
  count: number;
  min: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  avg: number | null;
}

/** Longest latency kept exactly; longer ones are clamped to it (a load test never waits this long). */
const HIGHEST_MS = 24 * 60 * 60 * 1000;

/**
 * Latencies in ms, recorded into an HDR histogram (HdrHistogramJS, the port of Gil Tene's
 * HdrHistogram): constant memory whatever the event count, percentiles with 3 significant digits, and
 * an encoded form (`encode`) that reports carry, so histograms of several runs or runners can be
 * added up exactly instead of averaging percentiles.
 */
export class LatencyRecorder {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MS,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });

  /** Records one latency (rounded to whole ms; values below 1 ms count as 1 ms). */
  record(ms: number): void {
    this.histogram.recordValue(Math.min(HIGHEST_MS, Math.max(1, Math.round(ms))));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /**
   * The latency at percentile `p` (0–100), in ms; NaN when nothing was recorded. HdrHistogram answers
   * with the top of the value's bucket, which can exceed the largest value recorded: capped at it.
   */
  percentile(p: number): number {
    return this.count === 0 ? Number.NaN : Math.min(this.histogram.getValueAtPercentile(p), this.max);
  }

  get min(): number {
    return this.count === 0 ? Number.NaN : this.histogram.minNonZeroValue;
  }

  get max(): number {
    return this.count === 0 ? Number.NaN : this.histogram.maxValue;
  }

  get avg(): number {
    return this.count === 0 ? Number.NaN : this.histogram.mean;
  }

  summary(): LatencySummary {
    const value = (n: number) => (Number.isNaN(n) ? null : Math.round(n * 10) / 10);
    return {
      count: this.count,
      min: value(this.min),
      p50: value(this.percentile(50)),
      p90: value(this.percentile(90)),
      p95: value(this.percentile(95)),
      p99: value(this.percentile(99)),
      max: value(this.max),
      avg: value(this.avg),
    };
  }

  /** The histogram in HdrHistogram's compressed base64 form (readable by every HdrHistogram port). */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }

  /** Adds another recorder's values to this one. */
  add(other: LatencyRecorder): void {
    this.histogram.add(other.histogram);
  }
}

/** Reads an encoded histogram (from a report's `histogram` field) back into percentiles. */
export function decodeLatencies(encoded: string): { percentile(p: number): number; count: number } {
  const histogram = hdr.decodeFromCompressedBase64(encoded);
  return { percentile: (p) => histogram.getValueAtPercentile(p), count: histogram.totalCount };
}
