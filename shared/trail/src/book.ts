import { ROUTE_MISMATCH_ERROR_TYPE } from '@sandbox-routing/core';
import type {
  ActivityRecord,
  ConsumerDecidedRecord,
  IngressDecidedRecord,
  TrailError,
  TrailRecord,
  WorkflowClosedRecord,
  WorkflowStartedRecord,
} from './record';

/** One activity attempt of a run. */
export interface ActivityStep {
  activityType: string;
  activityId: string;
  attempt: number;
  instance: string;
  taskQueue: string;
  outcome: 'completed' | 'failed';
  time: string;
  durationMs: number;
  error: TrailError | null;
}

/** A consumer workload's handling of the event (its last `consumer.decided` record). */
export interface ConsumerStep {
  instance: string;
  action: ConsumerDecidedRecord['action'];
  owner: string | null;
  time: string;
}

/** One run of a workflow (a redirect makes two: the first continues as new on the owner's queue). */
export interface RunStep {
  runId: string;
  /** The run this one continued (a redirect's second run names the first). */
  continuedFromRunId: string | null;
  instance: string;
  taskQueue: string;
  worker: string;
  startedAt: string | null;
  closedAt: string | null;
  /** How the run ended; null while it runs. `workflow.task-failed` is kept separately: it is retried. */
  outcome: 'completed' | 'failed' | 'cancelled' | 'continued-as-new' | null;
  nextTaskQueue: string | null;
  durationMs: number | null;
  error: TrailError | null;
  /** Workflow task failures seen (each is retried by Temporal). */
  taskFailures: number;
  activities: ActivityStep[];
}

/** Everything the trail says about one workflow (all of its runs). */
export interface WorkflowTrail {
  workflowId: string;
  eventId: string | null;
  routingKey: string | null;
  /** The ingress instance that started it (memo `ingestedBy`), null for other starters. */
  ingestedBy: string | null;
  eventTime: string | null;
  /** The ingress's own record, when an ingress emits them. */
  ingress: Pick<
    IngressDecidedRecord,
    'instance' | 'action' | 'owner' | 'partition' | 'offset' | 'time'
  > | null;
  /**
   * What other consumer workloads of the application did with the event (`consumer.decided`), by
   * workload: the instance that handled it last, what it did, and the owner it decided (a forward names
   * the fork; the fork's own record then says `processed`).
   */
  consumers: Record<string, ConsumerStep>;
  /**
   * The owners the baseline ingress decided for the event (its `ingress.decided` records), null when
   * no record carried a decision: what the event's work is judged by (see {@link expectedOwnersOf}).
   */
  decided: ExpectedOwners | null;
  /** The event's trace, from the first `ingress.decided` record that names one; null when none does. */
  traceId: string | null;
  runs: RunStep[];
  /** `running` until a run completes, fails or is cancelled. */
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  /** Where the work ended up: the instance of the last run that did not continue as new. */
  endedOn: string | null;
  /** Time of the first `workflow.completed` record. */
  completedAt: string | null;
  /** Distinct runs that completed: more than one means the event's work was done twice. */
  completions: number;
  /** Time of its earliest record (by the emitters' clocks), whatever order they arrived in. */
  firstSeen: string;
  lastUpdate: string;
}

/** Who should have handled an event: as decided, or per the routing rules when it was sent. */
export interface ExpectedOwners {
  /** Owner (`baseline` or a sandbox name) of the key for the worker's baseline workload. */
  worker: string;
  /** The same for the ingress's baseline workload; omit when not checked. */
  ingress?: string;
}

function emptyRun(record: { runId: string; instance: string; taskQueue: string; worker: string }): RunStep {
  return {
    runId: record.runId,
    continuedFromRunId: null,
    instance: record.instance,
    taskQueue: record.taskQueue,
    worker: record.worker,
    startedAt: null,
    closedAt: null,
    outcome: null,
    nextTaskQueue: null,
    durationMs: null,
    error: null,
    taskFailures: 0,
    activities: [],
  };
}

/** Runs in the order they ran: each continued run right after the one it continues. */
function inRunOrder(runs: RunStep[]): RunStep[] {
  const known = new Set(runs.map((r) => r.runId));
  const next = new Map(
    runs.flatMap((r) => (r.continuedFromRunId ? [[r.continuedFromRunId, r] as const] : [])),
  );
  const ordered: RunStep[] = [];
  for (const head of runs.filter((r) => !r.continuedFromRunId || !known.has(r.continuedFromRunId))) {
    for (let run: RunStep | undefined = head; run && !ordered.includes(run); run = next.get(run.runId)) {
      ordered.push(run);
    }
  }
  return ordered.length === runs.length ? ordered : runs;
}

/**
 * Folds trail records into one {@link WorkflowTrail} per workflow, in whatever order they arrive
 * (records come from several processes), ignoring repeats (a retried workflow task may report again).
 * Bounded: beyond `maxWorkflows` the least recently updated trail is forgotten. Used by the console's
 * live view and by load tests, which count per owner from it.
 */
export class TrailBook {
  private readonly trails = new Map<string, WorkflowTrail>();
  private readonly workflowsOfEvent = new Map<string, Set<string>>();
  private readonly maxWorkflows: number;

  constructor(options: { maxWorkflows?: number } = {}) {
    this.maxWorkflows = options.maxWorkflows ?? 10_000;
  }

  /** Applies one record; returns the trail it changed (undefined for a record without a workflow). */
  apply(record: TrailRecord): WorkflowTrail | undefined {
    const { workflowId } = record;
    if (!workflowId) return undefined;
    const trail = this.trailOf(workflowId, record.time);
    if (record.eventId && !trail.eventId) {
      trail.eventId = record.eventId;
      const ids = this.workflowsOfEvent.get(record.eventId) ?? new Set<string>();
      ids.add(workflowId);
      this.workflowsOfEvent.set(record.eventId, ids);
    }
    trail.routingKey ??= record.routingKey;
    if (record.time > trail.lastUpdate) trail.lastUpdate = record.time;
    if (record.time < trail.firstSeen) trail.firstSeen = record.time;
    switch (record.kind) {
      case 'ingress.decided':
        trail.ingress = {
          instance: record.instance,
          action: record.action,
          owner: record.owner,
          partition: record.partition,
          offset: record.offset,
          time: record.time,
        };
        trail.decided ??= record.decided ?? null;
        trail.traceId ??= record.traceId ?? null;
        break;
      case 'consumer.decided': {
        const known = trail.consumers[record.workload];
        // A forward and the fork's processing: the processing is the step's outcome, whichever arrives last.
        if (!known || known.action === 'forwarded' || record.action !== 'forwarded') {
          trail.consumers[record.workload] = {
            instance: record.instance,
            action: record.action,
            owner: record.owner,
            time: record.time,
          };
        }
        break;
      }
      case 'workflow.started':
        this.started(trail, record);
        break;
      case 'activity.completed':
      case 'activity.failed':
        this.activity(trail, record);
        break;
      default:
        this.closed(trail, record);
    }
    // Most recently updated last, so eviction takes the stalest.
    this.trails.delete(workflowId);
    this.trails.set(workflowId, trail);
    return trail;
  }

  get(workflowId: string): WorkflowTrail | undefined {
    return this.trails.get(workflowId);
  }

  /** The workflows seen for an event (more than one: it was started under two workflow ids). */
  ofEvent(eventId: string): WorkflowTrail[] {
    return [...(this.workflowsOfEvent.get(eventId) ?? [])].flatMap((id) => this.trails.get(id) ?? []);
  }

  /** Every trail, least recently updated first. */
  all(): WorkflowTrail[] {
    return [...this.trails.values()];
  }

  get size(): number {
    return this.trails.size;
  }

  private trailOf(workflowId: string, time: string): WorkflowTrail {
    const existing = this.trails.get(workflowId);
    if (existing) return existing;
    if (this.trails.size >= this.maxWorkflows) {
      const [oldestId, oldest] = this.trails.entries().next().value ?? [];
      if (oldestId !== undefined) this.trails.delete(oldestId);
      if (oldest?.eventId) {
        const ids = this.workflowsOfEvent.get(oldest.eventId);
        ids?.delete(oldestId as string);
        if (ids?.size === 0) this.workflowsOfEvent.delete(oldest.eventId);
      }
    }
    const trail: WorkflowTrail = {
      workflowId,
      eventId: null,
      routingKey: null,
      ingestedBy: null,
      eventTime: null,
      ingress: null,
      consumers: {},
      decided: null,
      traceId: null,
      runs: [],
      status: 'running',
      endedOn: null,
      completedAt: null,
      completions: 0,
      firstSeen: time,
      lastUpdate: time,
    };
    this.trails.set(workflowId, trail);
    return trail;
  }

  private runOf(trail: WorkflowTrail, record: WorkflowStartedRecord | WorkflowClosedRecord | ActivityRecord) {
    let run = trail.runs.find((r) => r.runId === record.runId);
    if (!run) {
      run = emptyRun(record);
      trail.runs.push(run);
    }
    return run;
  }

  private started(trail: WorkflowTrail, record: WorkflowStartedRecord): void {
    trail.ingestedBy ??= record.ingestedBy;
    trail.eventTime ??= record.eventTime;
    const run = this.runOf(trail, record);
    // The workflow's own record names its instance; an activity record may have created the run.
    run.instance = record.instance;
    run.taskQueue = record.taskQueue;
    run.worker = record.worker;
    run.startedAt ??= record.time;
    run.continuedFromRunId = record.continuedFromRunId;
    trail.runs = inRunOrder(trail.runs);
    this.summarise(trail);
  }

  private closed(trail: WorkflowTrail, record: WorkflowClosedRecord): void {
    const run = this.runOf(trail, record);
    run.instance = record.instance;
    if (record.kind === 'workflow.task-failed') {
      run.taskFailures++;
      run.error = record.error;
      return;
    }
    if (run.outcome !== null) return; // a repeat from a retried workflow task
    run.outcome =
      record.kind === 'workflow.completed'
        ? 'completed'
        : record.kind === 'workflow.failed'
          ? 'failed'
          : record.kind === 'workflow.cancelled'
            ? 'cancelled'
            : 'continued-as-new';
    run.closedAt = record.time;
    run.durationMs = record.durationMs;
    run.nextTaskQueue = record.nextTaskQueue;
    run.error = record.error;
    if (run.outcome === 'completed') {
      trail.completions++;
      trail.completedAt ??= record.time;
    }
    this.summarise(trail);
  }

  private activity(trail: WorkflowTrail, record: ActivityRecord): void {
    const run = this.runOf(trail, record);
    const outcome = record.kind === 'activity.completed' ? 'completed' : 'failed';
    const repeat = run.activities.some(
      (a) => a.activityId === record.activityId && a.attempt === record.attempt && a.outcome === outcome,
    );
    if (repeat) return;
    run.activities.push({
      activityType: record.activityType,
      activityId: record.activityId,
      attempt: record.attempt,
      instance: record.instance,
      taskQueue: record.taskQueue,
      outcome,
      time: record.time,
      durationMs: record.durationMs,
      error: record.error,
    });
  }

  private summarise(trail: WorkflowTrail): void {
    const final = [...trail.runs].reverse().find((r) => r.outcome !== 'continued-as-new');
    trail.endedOn = final?.instance ?? null;
    const outcome = final?.outcome;
    trail.status =
      outcome === 'completed' || outcome === 'failed' || outcome === 'cancelled' ? outcome : 'running';
  }
}

/**
 * The owners an event's work is judged by: those decided for it when it was decided (the baseline
 * ingress's `ingress.decided` record: the rules of that moment), else `fallback` (the rules when the
 * reader first saw the event, for work that no ingress decided, e.g. a start straight to Temporal).
 * Never the rules of a later moment: a sandbox deleted since must not turn its work into misplacements.
 */
export function expectedOwnersOf(trail: WorkflowTrail, fallback: ExpectedOwners): ExpectedOwners {
  return trail.decided ?? fallback;
}

/**
 * What ran somewhere other than its owner (by {@link expectedOwnersOf}), one line each; empty when
 * everything ran where the decision (or the rules) said. A run that continued as new (the first-task
 * redirect) is a routing hop, not a misplacement; an activity attempt refused by the routing check
 * (`SandboxRouteMismatch`) did not run.
 */
export function misplacements(trail: WorkflowTrail, fallback: ExpectedOwners): string[] {
  const expected = expectedOwnersOf(trail, fallback);
  const problems: string[] = [];
  if (expected.ingress !== undefined && trail.ingestedBy !== null && trail.ingestedBy !== expected.ingress) {
    problems.push(`ingress ${trail.ingestedBy} took it, expected ${expected.ingress}`);
  }
  for (const run of trail.runs) {
    if (run.outcome !== 'continued-as-new' && run.instance !== expected.worker) {
      problems.push(
        `workflow run ${run.runId.slice(0, 8)} ran on ${run.instance}, expected ${expected.worker}`,
      );
    }
    for (const step of run.activities) {
      if (step.error?.type === ROUTE_MISMATCH_ERROR_TYPE) continue;
      if (step.instance !== expected.worker) {
        problems.push(
          `activity ${step.activityType} (attempt ${step.attempt}) ran on ${step.instance}, expected ${expected.worker}`,
        );
      }
    }
  }
  return problems;
}
