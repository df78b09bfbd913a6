/**
 * What the console server sends the page (JSON): one definition for both sides. The server's values
 * are type-checked against these shapes; the page renders every string in them as text.
 */

export interface WireOwner {
  id: string;
  label: string;
  kind: 'baseline' | 'sandbox' | 'routegroup' | 'key';
  routingKey: string | null;
  workerOwner: string;
  ingressOwner: string;
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

export interface WireRow {
  workflowId: string;
  eventId: string | null;
  routingKey: string | null;
  via: WireSendPath | null;
  sentAt: string | null;
  published: { topic: string; partition: number; offset: string } | null;
  payloadPreview: string | null;
  expected: { worker: string; ingress: string };
  ingestedBy: string | null;
  runs: WireRun[];
  status: 'sent' | 'running' | 'completed' | 'failed' | 'cancelled';
  endedOn: string | null;
  firstRecordAfterMs: number | null;
  completedAfterMs: number | null;
  misplaced: string[];
  temporalUrl: string;
  updatedAt: string;
}

export interface WireCounters {
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
