import type { Backlog } from './inspect';
import type { LiveCounts } from './tracker';

/** The run's state for the progress line. */
export interface LoadProgress {
  elapsedMs: number;
  phase: 'sending' | 'draining';
  owners: { name: string; counts: LiveCounts }[];
  overall: LiveCounts;
  /** Why nothing completes, when nothing has for {@link STALL_MS}. */
  hint?: string;
}

/** Nothing completed for this long while events are in flight: the progress line says why it may be. */
export const STALL_MS = 10_000;

/** What {@link stallHint} works from (epoch ms, this process's clock). */
export interface StallState {
  now: number;
  /** When the first event was acknowledged; null before. */
  firstSentAt: number | null;
  /** When the last completion of this run was read; null before the first. */
  lastCompletionAt: number | null;
  /** When the last trail record of any work was read; null before the first. */
  lastRecordAt: number | null;
  overall: LiveCounts;
  resultsTopic: string;
  backlog: Backlog | null;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Why nothing completes, told from the stage the run's events stopped at: no trail record arrives at
 * all (the trail is off, or another topic), the ingress decides none (behind or down), none starts (no
 * worker takes the owner's tasks), or started ones do not finish (slow or stuck workers). Undefined
 * while completions come, or for less than {@link STALL_MS}.
 */
export function stallHint(state: StallState): string | undefined {
  const { now, overall } = state;
  if (state.firstSentAt === null || overall.inFlight === 0) return undefined;
  const since = Math.max(state.firstSentAt, state.lastCompletionAt ?? 0);
  if (now - since < STALL_MS) return undefined;
  const seconds = Math.round((now - since) / 1000);
  const nothing =
    state.lastCompletionAt === null
      ? `nothing done ${seconds} s after the first send`
      : `nothing done for ${seconds} s`;
  const waiting = state.backlog?.ingress?.waiting ?? 0;
  const open = (state.backlog?.queues ?? []).reduce((sum, q) => sum + q.running, 0);
  const behind = waiting > 0 ? ` (${plural(waiting, 'event')} waited for it before the run)` : '';
  const busy =
    open > 0
      ? ` (${plural(open, 'workflow')} ${open === 1 ? 'was' : 'were'} open on the owners' queues before the run)`
      : '';
  if (state.lastRecordAt === null || now - state.lastRecordAt >= STALL_MS) {
    const quiet =
      state.lastRecordAt === null
        ? 'no trail record has arrived'
        : `no trail record for ${Math.round((now - state.lastRecordAt) / 1000)} s`;
    return `${nothing}, ${quiet} on ${state.resultsTopic}: are the ingress and the workers running, with their trail on (TRAIL_ENABLED) and this KAFKA_RESULTS_TOPIC?`;
  }
  if (overall.decided === 0 && overall.started === 0) {
    return `${nothing}: the ingress has decided none of this run's events: it is behind or down${behind}`;
  }
  if (overall.started === 0) {
    return `${nothing}: ${overall.decided} decided, none started: no worker takes the owners' tasks${busy}`;
  }
  return `${nothing}: ${overall.started} started, ${overall.completed} done: the workers are slow or stuck${busy}`;
}

const ms = (value: number) => (Number.isNaN(value) ? '-' : `${Math.round(value)} ms`);

/** One owner's counts, in the order events go through the pipeline. */
function ownerCounts(name: string, c: LiveCounts): string {
  const problems = [
    c.failed > 0 ? `${c.failed} failed` : '',
    c.deadLettered > 0 ? `${c.deadLettered} dead-lettered` : '',
  ].filter((p) => p !== '');
  return `${name}: ${c.sent} sent → ${c.decided} decided → ${c.started} started → ${c.completed} done${problems.length > 0 ? `, ${problems.join(', ')}` : ''} (${c.inFlight} in flight, p99 ${ms(c.p99)})`;
}

/** The progress line: elapsed, phase, each owner's counts, and a hint when nothing completes. */
export function formatProgress(progress: LoadProgress): string {
  const owners = progress.owners.map(({ name, counts }) => ownerCounts(name, counts));
  const line = `${(progress.elapsedMs / 1000).toFixed(0)}s ${progress.phase} | ${owners.join(' | ')}`;
  return progress.hint ? `${line} | ⚠ ${progress.hint}` : line;
}
