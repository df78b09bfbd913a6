import { eventIdOfWorkflow } from '@sandbox-routing/sample';
import { misplacements, TrailBook, type TrailRecord, type WorkflowTrail } from '@sandbox-routing/trail';
import { LatencyRecorder } from './latency';
import type { LoadOwner } from './owners';

/** What the run knows about one event it sent. */
interface TrackedEvent {
  owner: number;
  /** When its send began (epoch ms, this process's clock): "publish" in publish → completed. */
  sentAt: number;
  /** The broker acknowledged it. */
  acked: boolean;
  /** Its send failed for good: not counted as sent, never unfinished (unless the trail shows it ran). */
  sendFailed: boolean;
  /** Its send needed more than one attempt (Kafka was away): it went out late. */
  retried: boolean;
  /** The ingress dead-lettered it: it never runs (until someone replays it). */
  deadLettered: boolean;
  /** When its first workflow run started / the ingress decided it / it completed (epoch ms, by the emitters' clocks). */
  startedAt: number | null;
  decidedAt: number | null;
  completedAt: number | null;
  failed: boolean;
}

/** Counts of one owner (or all of them) as the run goes. */
export interface LiveCounts {
  sent: number;
  /** The ingress decided them (its `ingress.decided` record: started, forwarded, dead-lettered). */
  decided: number;
  /** A workflow run started for them. */
  started: number;
  completed: number;
  failed: number;
  deadLettered: number;
  /** Sent and acknowledged, not completed, failed or dead-lettered yet. */
  inFlight: number;
  /** p99 publish → completed so far, ms (NaN before the first completion). */
  p99: number;
}

/** Per owner: recorders of the end-to-end latency and of its parts. */
interface OwnerStats {
  sent: number;
  sendFailures: number;
  /** Sends that needed retries (late). */
  sendRetried: number;
  decided: number;
  started: number;
  completed: number;
  failed: number;
  deadLettered: number;
  endToEnd: LatencyRecorder;
  /** publish → the ingress's decision (when the ingress emits its record). */
  toIngress: LatencyRecorder;
  /** publish → the first workflow run started (Kafka, ingress, Temporal start, task pickup). */
  toStarted: LatencyRecorder;
  /** first run started → completed (the workflow's own work, redirects included). */
  startedToCompleted: LatencyRecorder;
}

function emptyStats(): OwnerStats {
  return {
    sent: 0,
    sendFailures: 0,
    sendRetried: 0,
    decided: 0,
    started: 0,
    completed: 0,
    failed: 0,
    deadLettered: 0,
    endToEnd: new LatencyRecorder(),
    toIngress: new LatencyRecorder(),
    toStarted: new LatencyRecorder(),
    startedToCompleted: new LatencyRecorder(),
  };
}

/** One event's final state, for the report. */
export interface EventOutcome {
  eventId: string;
  owner: number;
  sentAt: number;
  acked: boolean;
  sendFailed: boolean;
  /** Its send was retried: it went out late. */
  retried: boolean;
  /** publish → completed, ms; null when it did not complete. */
  latencyMs: number | null;
  completedAt: number | null;
  failed: boolean;
  deadLettered: boolean;
  /** Acknowledged, and neither completed, failed nor dead-lettered by the end of the drain. */
  unfinished: boolean;
  /** Anything that ran where the rules did not say (empty when none). */
  misplaced: string[];
  /** The event's work was done more than once (two completed runs, or two workflows). */
  duplicate: boolean;
}

/** Sent, and no outcome read for it yet. */
const isUnfinished = (event: TrackedEvent): boolean =>
  event.acked && event.completedAt === null && !event.failed && !event.deadLettered;

const time = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
};

/**
 * Joins the events a load run sent with the trail records the system publishes about them, folded
 * per workflow by {@link TrailBook}: when each started and completed, where each step ran, repeats.
 * Only records of this run's events are kept (their ids start with the run's prefix), so a busy
 * results topic costs nothing but reading.
 */
export class LoadTracker {
  private readonly events = new Map<string, TrackedEvent>();
  private readonly book: TrailBook;
  private readonly stats: OwnerStats[];
  private readonly overall = new LatencyRecorder();

  constructor(
    readonly owners: readonly LoadOwner[],
    /** Every event id of the run starts with this (e.g. `load-3f9a1c-`). */
    private readonly idPrefix: string,
    capacity: number,
  ) {
    this.stats = owners.map(() => emptyStats());
    // Room for every workflow of the run (and a redirect's or a duplicate's extra ones).
    this.book = new TrailBook({ maxWorkflows: Math.max(1000, capacity * 2) });
  }

  /** Events handed to the producer at `sentAt`. */
  noteSending(eventIds: readonly string[], owner: number, sentAt: number): void {
    for (const id of eventIds) {
      this.events.set(id, {
        owner,
        sentAt,
        acked: false,
        sendFailed: false,
        retried: false,
        deadLettered: false,
        startedAt: null,
        decidedAt: null,
        completedAt: null,
        failed: false,
      });
    }
  }

  /** The broker took them. */
  noteAcked(eventIds: readonly string[]): void {
    for (const id of eventIds) {
      const event = this.events.get(id);
      if (!event || event.acked) continue;
      event.acked = true;
      (this.stats[event.owner] as OwnerStats).sent++;
    }
  }

  /** Their send failed and is being tried again. */
  noteRetrying(eventIds: readonly string[]): void {
    for (const id of eventIds) {
      const event = this.events.get(id);
      if (!event || event.retried) continue;
      event.retried = true;
      (this.stats[event.owner] as OwnerStats).sendRetried++;
    }
  }

  /** Their send failed for good. */
  noteSendFailed(eventIds: readonly string[]): void {
    for (const id of eventIds) {
      const event = this.events.get(id);
      if (!event || event.acked || event.sendFailed) continue;
      event.sendFailed = true;
      (this.stats[event.owner] as OwnerStats).sendFailures++;
    }
  }

  private ours(record: TrailRecord): boolean {
    if (record.eventId?.startsWith(this.idPrefix)) return true;
    const workflowId = record.workflowId;
    return workflowId !== null && (eventIdOfWorkflow(workflowId) ?? '').startsWith(this.idPrefix);
  }

  /** Applies one trail record (records of other work are ignored). */
  onRecord(record: TrailRecord): void {
    if (!this.ours(record)) return;
    if (record.kind === 'ingress.decided' && record.action === 'dead-lettered') {
      const event = record.eventId === null ? undefined : this.events.get(record.eventId);
      if (event) this.deadLettered(event, record.time);
      return;
    }
    const trail = this.book.apply(record);
    if (!trail) return;
    const eventId = trail.eventId ?? eventIdOfWorkflow(trail.workflowId);
    const event = eventId === undefined ? undefined : this.events.get(eventId);
    if (!event) return;
    this.update(event, trail);
  }

  /** A send that failed (no acknowledgement) but reached the pipeline all the same: it was sent. */
  private sentAfterAll(event: TrackedEvent): void {
    if (!event.sendFailed) return;
    const stats = this.stats[event.owner] as OwnerStats;
    event.sendFailed = false;
    stats.sendFailures--;
    event.acked = true;
    stats.sent++;
  }

  private decided(event: TrackedEvent, at: string): void {
    if (event.decidedAt !== null) return;
    const stats = this.stats[event.owner] as OwnerStats;
    event.decidedAt = time(at) ?? Date.now();
    stats.decided++;
    stats.toIngress.record(event.decidedAt - event.sentAt);
  }

  private deadLettered(event: TrackedEvent, at: string): void {
    this.sentAfterAll(event);
    this.decided(event, at);
    if (event.deadLettered || event.completedAt !== null || event.failed) return;
    event.deadLettered = true;
    (this.stats[event.owner] as OwnerStats).deadLettered++;
  }

  private update(event: TrackedEvent, trail: WorkflowTrail): void {
    const stats = this.stats[event.owner] as OwnerStats;
    this.sentAfterAll(event);
    if (trail.ingress) this.decided(event, trail.ingress.time);
    const starts = trail.runs.flatMap((run) => time(run.startedAt) ?? []);
    const firstStart = starts.length > 0 ? Math.min(...starts) : null;
    if (event.startedAt === null && firstStart !== null) {
      event.startedAt = firstStart;
      stats.started++;
      stats.toStarted.record(firstStart - event.sentAt);
    }
    if (event.completedAt === null && !event.failed) {
      const completedAt = trail.status === 'completed' ? time(trail.completedAt) : null;
      if (completedAt !== null) {
        event.completedAt = completedAt;
        this.lastCompletionAt = Date.now();
        stats.completed++;
        const latency = completedAt - event.sentAt;
        stats.endToEnd.record(latency);
        this.overall.record(latency);
        if (event.startedAt !== null) stats.startedToCompleted.record(completedAt - event.startedAt);
      } else if (trail.status === 'failed' || trail.status === 'cancelled') {
        event.failed = true;
        stats.failed++;
      }
    }
  }

  /** When (this process's clock) the last completion was read; null before the first. */
  lastCompletionAt: number | null = null;

  /** Sent and acknowledged events not completed, failed or dead-lettered yet. */
  pending(): number {
    let pending = 0;
    for (const event of this.events.values()) if (isUnfinished(event)) pending++;
    return pending;
  }

  /** The events with no outcome yet (sent, not completed, failed or dead-lettered). */
  unfinishedEventIds(): string[] {
    return [...this.events].flatMap(([id, event]) => (isUnfinished(event) ? [id] : []));
  }

  /** Counts per owner and overall, for the progress line. */
  live(): { owners: LiveCounts[]; overall: LiveCounts } {
    const owners = this.stats.map((s) => ({
      sent: s.sent,
      decided: s.decided,
      started: s.started,
      completed: s.completed,
      failed: s.failed,
      deadLettered: s.deadLettered,
      inFlight: s.sent - s.completed - s.failed - s.deadLettered,
      p99: s.endToEnd.percentile(99),
    }));
    const sum = (pick: (c: LiveCounts) => number) => owners.reduce((total, c) => total + pick(c), 0);
    return {
      owners,
      overall: {
        sent: sum((c) => c.sent),
        decided: sum((c) => c.decided),
        started: sum((c) => c.started),
        completed: sum((c) => c.completed),
        failed: sum((c) => c.failed),
        deadLettered: sum((c) => c.deadLettered),
        inFlight: sum((c) => c.inFlight),
        p99: this.overall.percentile(99),
      },
    };
  }

  /** The recorders of one owner. */
  ownerStats(owner: number): Readonly<OwnerStats> {
    return this.stats[owner] as OwnerStats;
  }

  /** End-to-end latency over every owner. */
  overallLatency(): LatencyRecorder {
    return this.overall;
  }

  /** Every event's final state (call when the run is over). */
  outcomes(): EventOutcome[] {
    const outcomes: EventOutcome[] = [];
    for (const [eventId, event] of this.events) {
      const trails = this.book.ofEvent(eventId);
      const expected = (this.owners[event.owner] as LoadOwner).expected;
      outcomes.push({
        eventId,
        owner: event.owner,
        sentAt: event.sentAt,
        acked: event.acked,
        sendFailed: event.sendFailed,
        retried: event.retried,
        latencyMs: event.completedAt === null ? null : event.completedAt - event.sentAt,
        completedAt: event.completedAt,
        failed: event.failed,
        deadLettered: event.deadLettered,
        unfinished: isUnfinished(event),
        misplaced: trails.flatMap((trail) => misplacements(trail, expected)),
        duplicate: trails.length > 1 || trails.some((trail) => trail.completions > 1),
      });
    }
    return outcomes;
  }
}
