/**
 * Trail records: what the system says about each event as it moves through it, published to the
 * results topic (`events.results` by default) so that tools can watch and count without polling
 * Temporal. The worker emits the `workflow.*` and `activity.*` records (see `trailWorkerOptions`);
 * the ingress emits `ingress.decided` (its decision per event, see the kind's doc).
 *
 * Pure declarations: safe inside Temporal's workflow sandbox. The JSON schema readers validate
 * against is `trail-record.schema.json` next to this file; both change together.
 */

/** Version of the record format; readers skip records of a version they do not know. */
export const TRAIL_RECORD_VERSION = 1 as const;

/** How a workflow run ended, as its `workflow.*` record says. */
export type WorkflowCloseKind =
  | 'workflow.completed'
  | 'workflow.failed'
  | 'workflow.cancelled'
  /** The run continued as new (the first-task redirect does this: `nextTaskQueue` says where). */
  | 'workflow.continued-as-new';

export type TrailRecordKind =
  | 'ingress.decided'
  | 'consumer.decided'
  | 'workflow.started'
  | WorkflowCloseKind
  /** The workflow task failed (a bug or non-determinism); Temporal retries it, the run is not over. */
  | 'workflow.task-failed'
  | 'activity.completed'
  | 'activity.failed';

/** An error as records carry it: its type (class or ApplicationFailure type) and message (≤ 500 chars). */
export interface TrailError {
  type: string;
  message: string;
}

interface RecordBase {
  version: typeof TRAIL_RECORD_VERSION;
  kind: TrailRecordKind;
  /** When it happened, ISO 8601 with milliseconds, by the emitting process's clock. */
  time: string;
  /**
   * The event behind the work: the `id` of the workflow's first argument when it is a pipeline
   * event, else null (activity records fill it from the run's own workflow record when the same
   * process saw it). Readers join on `workflowId`, which every workflow and activity record has.
   */
  eventId: string | null;
  /** The routing key the work carried, null without one. */
  routingKey: string | null;
  /** Who emitted it: `baseline` or the sandbox name (`instanceLabel`), the one owner spelling. */
  instance: string;
}

/**
 * The ingress's decision for one Kafka record that holds an event (started, forwarded to a sandbox's
 * topic, found started already, dead-lettered), emitted by the ingress when it is done with the record.
 * The worker's `workflow.started` also names the deciding instance (`ingestedBy`, from the memo).
 */
export interface IngressDecidedRecord extends RecordBase {
  kind: 'ingress.decided';
  /** Where the event was read. */
  topic: string;
  partition: number;
  offset: string;
  /** What the ingress did with it. */
  action: 'started' | 'forwarded' | 'skipped' | 'duplicate' | 'dead-lettered';
  /** The owner it decided (`baseline` or a sandbox name), null when it could not tell. */
  owner: string | null;
  /**
   * The owners of the event's key as decided once, by the baseline ingress (`ownerLabel` spellings):
   * for the ingress workload and for the worker workload its workflow is started on. A fork's record
   * repeats the decision it honoured. Readers judge where the event's work ran against this, not
   * against the rules of some later moment. Null (or absent, in records of older ingresses) when the
   * record carries no decision (the key's worker owner is then decided at the start).
   */
  decided?: { ingress: string; worker: string } | null;
  /**
   * The workflow the event's owner starts (`evt-<event id>`), also when this instance only forwards
   * it: readers attach the decision to that workflow's trail. Null when there is none (skipped,
   * dead-lettered).
   */
  workflowId: string | null;
  /** Where it forwarded the record (action `forwarded`), or the dead-letter reason. */
  detail: string | null;
  /**
   * The trace of the ingress's decision (W3C trace id, 32 lowercase hex): the event's one trace, which
   * readers link to. Null when the ingress does not trace; absent in records of older ingresses.
   */
  traceId?: string | null;
}

/**
 * What another consumer workload of the application (a service built on `@sandbox-routing/kafka`'s
 * decide-once consumer, e.g. the sample's notifier) did with one event: processed it here, forwarded it to
 * the fork that owns it, or dead-lettered it. `instance` is who did it; `owner` the owner decided.
 */
export interface ConsumerDecidedRecord extends RecordBase {
  kind: 'consumer.decided';
  /** The consumer's workload (as the application declares it) and its baseline's group. */
  workload: string;
  group: string;
  topic: string;
  partition: number;
  offset: string;
  action: 'processed' | 'forwarded' | 'skipped' | 'dead-lettered';
  owner: string | null;
  /** The event's workflow in the sample (`evt-<id>`), null when none: readers join on it. */
  workflowId: string | null;
  /** Where it forwarded the record, or the dead-letter reason. */
  detail: string | null;
}

interface WorkflowRecordBase extends RecordBase {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** The task queue this run is on. */
  taskQueue: string;
  /** The worker process (its Temporal identity, e.g. `pr-101@host:1234`). */
  worker: string;
}

export interface WorkflowStartedRecord extends WorkflowRecordBase {
  kind: 'workflow.started';
  /** Memo `ingestedBy` of a workflow the ingress started: the ingress instance that decided the event. */
  ingestedBy: string | null;
  /** Memo `eventTime`: when the event was created. */
  eventTime: string | null;
  /** The run this one continued from (a redirect's first run), null for the first run. */
  continuedFromRunId: string | null;
}

export interface WorkflowClosedRecord extends WorkflowRecordBase {
  kind: WorkflowCloseKind | 'workflow.task-failed';
  /** Since the run started (server time of the run's start to this worker's clock). */
  durationMs: number;
  /** `workflow.continued-as-new`: the queue of the next run. */
  nextTaskQueue: string | null;
  /** `workflow.failed` / `workflow.task-failed`: why. */
  error: TrailError | null;
}

export interface ActivityRecord extends RecordBase {
  kind: 'activity.completed' | 'activity.failed';
  workflowId: string;
  runId: string;
  workflowType: string;
  activityType: string;
  activityId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** The queue of the worker that ran this attempt. */
  taskQueue: string;
  worker: string;
  startedAt: string;
  durationMs: number;
  /** `activity.failed`: why (Temporal may retry it; a later record tells). */
  error: TrailError | null;
}

export type WorkflowRecord = WorkflowStartedRecord | WorkflowClosedRecord;
export type TrailRecord = IngressDecidedRecord | ConsumerDecidedRecord | WorkflowRecord | ActivityRecord;

/** The Kafka message key of a record: its event id, else its workflow id (records of one event share it). */
export function trailRecordKey(record: TrailRecord): string {
  if (record.eventId) return record.eventId;
  return 'workflowId' in record && record.workflowId ? record.workflowId : `${record.kind}:${record.time}`;
}

const MAX_ERROR_MESSAGE = 500;

/** An error in record form, bounded in size. */
export function trailError(error: unknown): TrailError {
  const type =
    typeof error === 'object' && error !== null && typeof (error as { type?: unknown }).type === 'string'
      ? (error as { type: string }).type
      : error instanceof Error
        ? error.name
        : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  return { type: type.slice(0, 100), message: message.slice(0, MAX_ERROR_MESSAGE) };
}
