import { InvalidArgumentError } from 'commander';

/**
 * Pass/fail criteria in the style k6 users know (`--threshold 'p99<800ms' --threshold 'unfinished==0'`):
 * `METRIC[{owner:NAME}] OP VALUE[UNIT]`. Without `{owner:…}` a threshold applies to the whole run;
 * with it, to that owner's events only (k6's tag filter syntax).
 */

/** Latency metrics, in ms: percentiles (`p99`, `p(99)`, `p99.9`), `min`, `max`, `avg`, `med`. */
export type LatencyMetric =
  | { kind: 'latency'; percentile: number }
  | { kind: 'latency'; stat: 'min' | 'max' | 'avg' };

/** Counts and rates of a run. */
export const COUNT_METRICS = [
  'sent',
  'send_failures',
  'send_retried',
  'decided',
  'started',
  'completed',
  'failed',
  'dead_lettered',
  'misrouted',
  'unfinished',
  'duplicates',
] as const;

/** Metrics renamed: the old name is refused with the new one, rather than quietly meaning something else. */
const RENAMED: Readonly<Record<string, { now: CountMetric; meaning: string }>> = {
  lost: {
    now: 'unfinished',
    meaning: 'sent, no outcome seen by the end of the drain: late, not known to be lost',
  },
};
export const RATE_METRICS = ['rate', 'sent_rate'] as const;

export type CountMetric = (typeof COUNT_METRICS)[number];
export type RateMetric = (typeof RATE_METRICS)[number];

export type Metric =
  | LatencyMetric
  | { kind: 'count'; name: CountMetric }
  | { kind: 'rate'; name: RateMetric };

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Threshold {
  /** As given on the command line. */
  expression: string;
  metric: Metric;
  /** The owner label it is restricted to (`{owner:pr-101}`), or null for the whole run. */
  owner: string | null;
  operator: Operator;
  /** Latency thresholds in ms; counts as counts; rates in events per second. */
  value: number;
}

/** The numbers a threshold is checked against: one owner's, or the whole run's. */
export interface MetricSource {
  counts: Record<CountMetric, number>;
  rates: Record<RateMetric, number>;
  /** Latency at a percentile (0–100), in ms; NaN when nothing completed. */
  percentile(p: number): number;
  latency: { min: number; max: number; avg: number };
}

export interface ThresholdResult {
  expression: string;
  owner: string | null;
  /** The measured value (ms for latencies); null when the owner is not part of the run. */
  actual: number | null;
  ok: boolean;
}

const THRESHOLD =
  /^\s*([a-z_]+(?:\(\d+(?:\.\d+)?\)|\d+(?:\.\d+)?)?)\s*(?:\{\s*owner\s*:\s*([^}\s]+)\s*\})?\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(ms|s)?\s*$/;

function parseMetric(name: string): Metric | undefined {
  const percentile = /^p(?:\((\d+(?:\.\d+)?)\)|(\d+(?:\.\d+)?))$/.exec(name);
  if (percentile) {
    const p = Number(percentile[1] ?? percentile[2]);
    return p > 0 && p <= 100 ? { kind: 'latency', percentile: p } : undefined;
  }
  if (name === 'med') return { kind: 'latency', percentile: 50 };
  if (name === 'min' || name === 'max' || name === 'avg') return { kind: 'latency', stat: name };
  if ((COUNT_METRICS as readonly string[]).includes(name))
    return { kind: 'count', name: name as CountMetric };
  if ((RATE_METRICS as readonly string[]).includes(name)) return { kind: 'rate', name: name as RateMetric };
  return undefined;
}

/** Parses one `--threshold`; throws `InvalidArgumentError` saying what is expected. */
export function parseThreshold(text: string): Threshold {
  const match = THRESHOLD.exec(text);
  const renamed = match ? RENAMED[match[1] as string] : undefined;
  if (renamed) {
    throw new InvalidArgumentError(
      `threshold ${JSON.stringify(text)}: "${match?.[1]}" is now "${renamed.now}" (${renamed.meaning}).`,
    );
  }
  const metric = match ? parseMetric(match[1] as string) : undefined;
  if (!match || !metric) {
    throw new InvalidArgumentError(
      `threshold ${JSON.stringify(text)}: expected METRIC[{owner:NAME}] OP VALUE, e.g. 'p99<800ms', 'unfinished==0', 'p95{owner:pr-101}<1s', 'rate>=45'; metrics: p50 p95 p99 p(99.9) min max avg med, ${COUNT_METRICS.join(' ')}, ${RATE_METRICS.join(' ')}.`,
    );
  }
  const unit = match[5];
  if (unit && metric.kind !== 'latency') {
    throw new InvalidArgumentError(
      `threshold ${JSON.stringify(text)}: only latency metrics take a unit (ms, s).`,
    );
  }
  const number = Number(match[4]);
  return {
    expression: text.trim(),
    metric,
    owner: match[2] ?? null,
    operator: match[3] as Operator,
    value: unit === 's' ? number * 1000 : number,
  };
}

function compare(actual: number, operator: Operator, expected: number): boolean {
  switch (operator) {
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
  }
}

/** The value of `metric` in `source`. */
export function metricValue(metric: Metric, source: MetricSource): number {
  if (metric.kind === 'count') return source.counts[metric.name];
  if (metric.kind === 'rate') return source.rates[metric.name];
  return 'percentile' in metric ? source.percentile(metric.percentile) : source.latency[metric.stat];
}

/**
 * Checks each threshold against the run (`overall`) or one owner (`owners`). A latency threshold fails
 * when nothing completed (NaN), and so does one naming an owner the run did not have.
 */
export function evaluateThresholds(
  thresholds: readonly Threshold[],
  overall: MetricSource,
  owners: ReadonlyMap<string, MetricSource>,
): ThresholdResult[] {
  return thresholds.map((threshold) => {
    const source = threshold.owner === null ? overall : owners.get(threshold.owner);
    if (!source) return { expression: threshold.expression, owner: threshold.owner, actual: null, ok: false };
    const actual = metricValue(threshold.metric, source);
    return {
      expression: threshold.expression,
      owner: threshold.owner,
      actual: Number.isNaN(actual) ? null : actual,
      ok: !Number.isNaN(actual) && compare(actual, threshold.operator, threshold.value),
    };
  });
}
