/**
 * Whether a pipeline kept up with the rate offered to it: one criterion for `npm run bench` (each step
 * of its rate ladder) and `producer load` (its run, or each window of a ramp), so both say
 * "sustained" of the same thing.
 */

/** What one event did. */
export interface EventTiming {
  /** Its owner (`baseline`, a sandbox, …): a backlog is judged per owner. */
  owner: string;
  /** ms from the step's start when it was sent (or started). */
  sentAtMs: number;
  /** publish/start → completed, ms; null when it did not complete by the end of the drain. */
  latencyMs: number | null;
}

export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
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
 * Whether a step kept up with the offered rate (events/s, every owner together). Events not completed
 * by the end of the drain fail it, and so does a growing backlog: above capacity every later event
 * waits longer, so each owner's median latency over the last quarter of its events (by send time)
 * climbs far above the first quarter's. Below capacity it stays flat at whatever level (skip-and-retry's
 * tail is high but need not grow at low rates). The throughput, when far below the offered rate, says
 * the same.
 */
export function judgeStep(
  rate: number,
  timings: readonly EventTiming[],
  throughput = throughputOf(timings),
): { sustained: boolean; verdict: string } {
  const unfinished = timings.filter((t) => t.latencyMs === null).length;
  if (unfinished > 0)
    return { sustained: false, verdict: `${unfinished} not completed by the end of the drain` };
  if (throughput < 0.75 * rate) {
    return { sustained: false, verdict: `completed ${throughput}/s of ${rate}/s offered` };
  }
  for (const owner of [...new Set(timings.map((t) => t.owner))]) {
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
