import { load } from '@sandbox-routing/producer';

/**
 * One step of a benchmark ladder: events at a fixed rate for a while, half for the baseline and half
 * for a sandbox, and what happened to them. Shared by every row of `npm run bench`. Whether a step is
 * sustained is judged as `producer load` judges the rate it kept up with (`load.judgeStep`).
 */

export type EventTiming = load.EventTiming;
export const { judgeStep, percentile, throughputOf } = load;

/** Latency percentiles of one owner at one step. */
export interface OwnerLatency {
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export interface StepResult {
  /** Offered events per second (both owners together). */
  rate: number;
  durationMs: number;
  sent: number;
  completed: number;
  lost: number;
  /** Completions per second between the first and the last completion. */
  throughput: number;
  latency: { baseline: OwnerLatency; sandbox: OwnerLatency; all: OwnerLatency };
  /** Kept up (see {@link judgeStep}). */
  sustained: boolean;
  /** Why not, when not. */
  verdict: string;
  /** Most starts in flight at once (started, not yet completed). */
  maxInFlight: number | null;
  /** Per 1,000 events, from the workflows' histories (null where not measured). */
  workflowTaskFailures: number | null;
  extraWorkflowTaskAttempts: number | null;
  /** Activity attempts per event (processOrder runs 4 activities, the charge on payments among them: 4.0 means no retry). */
  activityAttemptsPerEvent: number | null;
  /** Routeserver requests during the step: per 1,000 events and per minute. */
  routeserverPer1k: number | null;
  routeserverPerMinute: number | null;
}

function latencyOf(timings: readonly EventTiming[]): OwnerLatency {
  const sorted = timings.flatMap((t) => (t.latencyMs === null ? [] : [t.latencyMs])).sort((a, b) => a - b);
  const round = (v: number | null) => (v === null ? null : Math.round(v));
  return {
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? null),
  };
}

/**
 * A step's result from its events' timings (and its throughput, when measured elsewhere); the history
 * and routeserver figures are added by the row.
 */
export function stepResult(
  rate: number,
  durationMs: number,
  timings: readonly EventTiming[],
  throughput = throughputOf(timings),
): StepResult {
  const completed = timings.filter((t) => t.latencyMs !== null);
  const { sustained, verdict } = judgeStep(rate, timings, throughput);
  return {
    rate,
    durationMs,
    sent: timings.length,
    completed: completed.length,
    lost: timings.length - completed.length,
    throughput,
    latency: {
      baseline: latencyOf(timings.filter((t) => t.owner === 'baseline')),
      sandbox: latencyOf(timings.filter((t) => t.owner === 'sandbox')),
      all: latencyOf(timings),
    },
    sustained,
    verdict,
    maxInFlight: null,
    workflowTaskFailures: null,
    extraWorkflowTaskAttempts: null,
    activityAttemptsPerEvent: null,
    routeserverPer1k: null,
    routeserverPerMinute: null,
  };
}
