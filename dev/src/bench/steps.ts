/**
 * One step of a benchmark ladder: events at a fixed rate for a while, half for the baseline and half
 * for a sandbox, and what happened to them. Shared by every row of `npm run bench`.
 */

/** What one event did. */
export interface EventTiming {
  owner: 'baseline' | 'sandbox';
  /** ms from the step's start when it was sent (or started). */
  sentAtMs: number;
  /** publish/start → completed, ms; null when it did not complete by the end of the drain. */
  latencyMs: number | null;
}

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
  /** Activity attempts per event (3 activities per workflow: 3.0 means no retry). */
  activityAttemptsPerEvent: number | null;
  /** Routeserver requests during the step: per 1,000 events and per minute. */
  routeserverPer1k: number | null;
  routeserverPerMinute: number | null;
}

export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
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
 * Completions per second in the steady state: those that fell within the sending window shifted by the
 * median latency, over the window's length. A system that keeps up completes the offered rate; one
 * above capacity, its capacity. (First-to-last completion would let a long tail of stragglers pass
 * for a low rate.)
 */
export function throughputOf(timings: readonly EventTiming[]): number {
  const sends = timings.map((t) => t.sentAtMs);
  const latencies = timings.flatMap((t) => (t.latencyMs === null ? [] : [t.latencyMs])).sort((a, b) => a - b);
  const median = percentile(latencies, 50);
  if (median === null || sends.length < 2) return 0;
  const from = Math.min(...sends) + median;
  const to = Math.max(...sends) + median;
  const done = timings.filter(
    (t) => t.latencyMs !== null && t.sentAtMs + t.latencyMs >= from && t.sentAtMs + t.latencyMs <= to,
  );
  return to > from ? Math.round((done.length / ((to - from) / 1000)) * 10) / 10 : 0;
}

/**
 * Whether a step kept up with the offered rate. Lost events (not completed by the end of the drain)
 * fail it, and so does a growing backlog: above capacity every later event waits longer, so each
 * owner's median latency over the last quarter of its events (by send time) climbs far above the
 * first quarter's. Below capacity it stays flat at whatever level (skip-and-retry's tail is high but
 * need not grow at low rates). The throughput, when far below the offered rate, says the same.
 */
export function judgeStep(
  rate: number,
  timings: readonly EventTiming[],
  throughput = throughputOf(timings),
): { sustained: boolean; verdict: string } {
  const lost = timings.filter((t) => t.latencyMs === null).length;
  if (lost > 0) return { sustained: false, verdict: `${lost} not completed by the end of the drain` };
  if (throughput < 0.75 * rate) {
    return { sustained: false, verdict: `completed ${throughput}/s of ${rate}/s offered` };
  }
  for (const owner of ['baseline', 'sandbox'] as const) {
    const bySend = timings.filter((t) => t.owner === owner).sort((a, b) => a.sentAtMs - b.sentAtMs);
    if (bySend.length < 8) continue;
    const quarter = Math.floor(bySend.length / 4);
    const median = (part: readonly EventTiming[]) =>
      percentile(
        part.map((t) => t.latencyMs as number).sort((a, b) => a - b),
        50,
      ) ?? 0;
    const early = median(bySend.slice(0, quarter));
    const late = median(bySend.slice(-quarter));
    // 2× plus half a second of slack: noise on a busy 2-core machine, not a backlog.
    if (late > 2 * early + 500) {
      return {
        sustained: false,
        verdict: `${owner} backlog: median latency ${Math.round(early)} → ${Math.round(late)} ms`,
      };
    }
  }
  return { sustained: true, verdict: 'kept up' };
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
