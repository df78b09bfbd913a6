import {
  type ExpectedOwners,
  expectedOwnersOf,
  misplacements,
  TrailBook,
  type TrailRecord,
} from '@sandbox-routing/trail';
import type { WireCounters, WireRow } from './page/wire';
import type { SendPath } from './sender';

/** What the console knows about an event it sent itself. */
export interface SentEvent {
  eventId: string;
  workflowId: string;
  via: SendPath;
  routingKey: string | null;
  /** The owner picked on the page (its label). */
  ownerLabel: string;
  /** Who should handle it, by the routing rules when it was sent. */
  expected: { worker: string; ingress: string };
  sentAt: string;
  /** Kafka path: topic, partition and offset of the message. */
  published: { topic: string; partition: number; offset: string } | null;
  /** The start of the payload as sent (JSON), so a row says which event it is. */
  payloadPreview: string;
}

/** One row of the live trail: what the page shows for one workflow (the page's own type). */
export type TrailRow = WireRow;

/** Per expected owner: what was sent, and how it went. */
export type OwnerCounters = WireCounters;

export interface TrailHubOptions {
  /** Who should handle a key by the current rules (asked once per workflow this console did not send, when first seen). */
  expectedFor(routingKey: string | null): { worker: string; ingress: string };
  /** Link to a workflow (its latest run when known) in the Temporal UI. */
  temporalUrl(workflowId: string, runId?: string): string;
  /** Link to a trace in the trace viewer; absent when none is configured. */
  traceUrl?(traceId: string): string;
  /** Most rows kept (the oldest go first). */
  maxRows?: number;
}

type Listener = (rows: TrailRow[]) => void;

/** Drops the oldest entries of a map beyond `max`. */
function bound<V>(map: Map<string, V>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) return;
    map.delete(oldest);
  }
}

const msBetween = (from: string | null, to: string | null): number | null =>
  from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : null;

/**
 * The console's view of the trail: records from the results topic folded per workflow, joined with
 * what the console sent, judged against the expected owners, and pushed to listeners (the page's
 * event streams) as rows.
 */
export class TrailHub {
  private readonly book: TrailBook;
  private readonly sent = new Map<string, SentEvent>();
  /** For work this console did not send: the owners by the rules when it first saw it. */
  private readonly seen = new Map<string, { worker: string; ingress: string }>();
  private readonly listeners = new Set<Listener>();
  private readonly maxRows: number;

  constructor(private readonly options: TrailHubOptions) {
    this.maxRows = options.maxRows ?? 500;
    this.book = new TrailBook({ maxWorkflows: this.maxRows });
  }

  /** Records events the console just sent; their rows appear at once, as `sent`. */
  noteSent(events: readonly SentEvent[]): void {
    for (const event of events) {
      this.sent.delete(event.workflowId);
      this.sent.set(event.workflowId, event);
      bound(this.sent, this.maxRows);
    }
    this.publish(events.map((e) => this.row(e.workflowId)));
  }

  /** Applies one trail record and pushes the row it changed. */
  onRecord(record: TrailRecord): void {
    const trail = this.book.apply(record);
    if (trail) this.publish([this.row(trail.workflowId)]);
  }

  /** Every row, newest first, up to `limit`. */
  rows(limit = 200): TrailRow[] {
    const ids = new Set([...this.book.all().map((t) => t.workflowId), ...this.sent.keys()]);
    return [...ids]
      .map((id) => this.row(id))
      .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0))
      .slice(0, limit);
  }

  /** Counters per expected worker owner, over every row kept. */
  counters(): Record<string, OwnerCounters> {
    const counters: Record<string, OwnerCounters> = {};
    for (const row of this.rows(Number.MAX_SAFE_INTEGER)) {
      const owner = row.expected.worker;
      counters[owner] ??= { events: 0, sent: 0, running: 0, completed: 0, failed: 0, misplaced: 0 };
      const c = counters[owner];
      c.events++;
      if (row.via) c.sent++;
      if (row.status === 'running') c.running++;
      if (row.status === 'completed') c.completed++;
      if (row.status === 'failed' || row.status === 'cancelled') c.failed++;
      if (row.misplaced.length > 0) c.misplaced++;
    }
    return counters;
  }

  /** The owners by the rules when this console first saw the workflow (asked once, kept). */
  private rulesWhenSeen(workflowId: string, routingKey: string | null): { worker: string; ingress: string } {
    let expected = this.seen.get(workflowId);
    if (!expected) {
      expected = this.options.expectedFor(routingKey);
      this.seen.set(workflowId, expected);
      bound(this.seen, this.maxRows * 2);
    }
    return expected;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(rows: TrailRow[]): void {
    for (const listener of this.listeners) listener(rows);
  }

  private row(workflowId: string): TrailRow {
    const sent = this.sent.get(workflowId);
    const trail = this.book.get(workflowId);
    const routingKey = sent?.routingKey ?? trail?.routingKey ?? null;
    const fallback: ExpectedOwners = sent?.expected ?? this.rulesWhenSeen(workflowId, routingKey);
    const expected = trail ? expectedOwnersOf(trail, fallback) : fallback;
    const origin = sent?.sentAt ?? trail?.firstSeen ?? null;
    return {
      workflowId,
      eventId: sent?.eventId ?? trail?.eventId ?? null,
      routingKey,
      via: sent?.via ?? null,
      sentAt: sent?.sentAt ?? null,
      published: sent?.published ?? null,
      payloadPreview: sent?.payloadPreview ?? null,
      expected: { worker: expected.worker, ingress: expected.ingress ?? fallback.ingress ?? 'baseline' },
      expectedBy: trail?.decided ? 'decision' : sent ? 'rules-when-sent' : 'rules-when-seen',
      // The worker's record (memo ingestedBy); an ingress that emits its own decision record fills the gap.
      ingestedBy: trail?.ingestedBy ?? trail?.ingress?.instance ?? null,
      runs: trail?.runs ?? [],
      status: trail?.status === 'running' && trail.runs.length === 0 ? 'sent' : (trail?.status ?? 'sent'),
      endedOn: trail?.endedOn ?? null,
      timedFrom: sent ? 'sent' : 'first-record',
      firstRecordAfterMs: msBetween(origin, trail?.firstSeen ?? null),
      completedAfterMs: msBetween(origin, trail?.completedAt ?? null),
      misplaced: trail ? misplacements(trail, fallback) : [],
      temporalUrl: this.options.temporalUrl(workflowId, trail?.runs.at(-1)?.runId),
      traceUrl: trail?.traceId && this.options.traceUrl ? this.options.traceUrl(trail.traceId) : null,
      updatedAt: trail?.lastUpdate ?? sent?.sentAt ?? new Date(0).toISOString(),
    };
  }
}
