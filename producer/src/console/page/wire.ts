/**
 * What the console server sends the page (JSON): one definition for both sides. The server's values
 * are type-checked against these shapes; the page renders every string in them as text.
 */

/** Something the console can send to: the baseline, or one routing key of a sandbox or RouteGroup. */
export interface WireOwner {
  /** `baseline`, or `key:<routing key>`. */
  id: string;
  /** The baseline, the sandbox's or RouteGroup's name, or (real routeserver) the sandbox the key routes to. */
  label: string;
  /**
   * `sandbox` / `routegroup` when the routeserver says (the local stand-in's admin state); `key` when
   * only routing rules are known, as from Signadot's routeserver, which does not tell them apart.
   */
  kind: 'baseline' | 'sandbox' | 'routegroup' | 'key';
  routingKey: string | null;
  /** Who should run the workflow: the owner of the key for the worker's baseline workload. */
  workerOwner: string;
  /** Who should take the event from Kafka: the owner of the key for the ingress's baseline workload. */
  ingressOwner: string;
  /** A RouteGroup's member sandboxes (stand-in only). */
  members: string[];
}

export interface WireOwnerStatus {
  synced: boolean;
  error: string | null;
  updatedAt: string | null;
}

export interface WireError {
  type: string;
  message: string;
}

export interface WireActivity {
  activityType: string;
  attempt: number;
  instance: string;
  taskQueue: string;
  outcome: 'completed' | 'failed';
  durationMs: number;
  error: WireError | null;
}

export interface WireRun {
  runId: string;
  instance: string;
  taskQueue: string;
  outcome: 'completed' | 'failed' | 'cancelled' | 'continued-as-new' | null;
  nextTaskQueue: string | null;
  durationMs: number | null;
  error: WireError | null;
  taskFailures: number;
  activities: WireActivity[];
}

export type WireSendPath = 'kafka' | 'temporal';

/** One row of the live trail: what the page shows for one workflow. */
export interface WireRow {
  workflowId: string;
  eventId: string | null;
  routingKey: string | null;
  /** How this console sent it; null for work someone else started. */
  via: WireSendPath | null;
  sentAt: string | null;
  published: { topic: string; partition: number; offset: string } | null;
  payloadPreview: string | null;
  /**
   * Who should run it: the owners the baseline ingress decided for the event, else the routing rules
   * when this console sent it or first saw it (`expectedBy` says which). Never today's rules.
   */
  expected: { worker: string; ingress: string };
  expectedBy: 'decision' | 'rules-when-sent' | 'rules-when-seen';
  ingestedBy: string | null;
  runs: WireRun[];
  status: 'sent' | 'running' | 'completed' | 'failed' | 'cancelled';
  endedOn: string | null;
  /**
   * From `timedFrom` (this console's send, or the event's earliest trail record when someone else sent
   * it) → first trail record, and → completed, in ms. Never from the event's own `time` field, which
   * whoever wrote the event chose.
   */
  timedFrom: 'sent' | 'first-record';
  firstRecordAfterMs: number | null;
  completedAfterMs: number | null;
  /** Everything that ran where it should not have; empty when the event is where it belongs. */
  misplaced: string[];
  temporalUrl: string;
  /** The event's trace in the trace viewer (CONSOLE_TRACE_URL), null when unknown or no viewer is set. */
  traceUrl: string | null;
  updatedAt: string;
}

/** Per expected owner: the events seen (sent from this console or not), and how they went. */
export interface WireCounters {
  /** Every event of this owner the console shows. */
  events: number;
  /** Of which this console sent. */
  sent: number;
  running: number;
  completed: number;
  failed: number;
  misplaced: number;
}

export interface WireInfo {
  temporalUiUrl: string;
  namespace: string;
  sharedQueue: string;
  resultsTopic: string;
}

/** Server-sent events of `GET /api/stream`. */
export interface WireSnapshot {
  owners: WireOwner[];
  status: WireOwnerStatus;
  rows: WireRow[];
  counters: Record<string, WireCounters>;
  info: WireInfo;
}
export interface WireRowsUpdate {
  rows: WireRow[];
  counters: Record<string, WireCounters>;
}
export interface WireOwnersUpdate {
  owners: WireOwner[];
  status: WireOwnerStatus;
}

/** The data block of the HTML shell. */
export interface WireBoot {
  requested: { key: string; source: 'header' | 'query' } | null;
}

/** Error answers of the API. */
export interface WireProblem {
  statusCode: number;
  error: string;
  message: string;
}
