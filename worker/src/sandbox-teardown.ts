/**
 * Sandbox teardown: workflows pinned to a sandbox's task queue wait forever once the sandbox (and
 * its worker) is gone. These functions list them and terminate them or restart them on the baseline.
 * The `teardown` command (teardown.ts) is the CLI around them.
 */
import {
  BASELINE_LABEL,
  isSandboxName,
  REDIRECT_MANIFEST_HEADER,
  ROUTING_KEY_SEARCH_ATTRIBUTE,
  routingKeyFromTemporalHeaders,
  SANDBOX_SEARCH_ATTRIBUTE,
  sandboxTaskQueue,
  unpackRedirect,
  withRoutingDecision,
  withRoutingKeyHeader,
} from '@sandbox-routing/shared';
import {
  Client,
  type Connection,
  type Payload,
  type WorkflowClientInterceptor,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { mapWithConcurrency } from './map-with-concurrency';

/** What the teardown command can do with each open workflow of a sandbox. */
export const TEARDOWN_ACTIONS = ['list', 'terminate', 'restart-on-baseline'] as const;
/** One of {@link TEARDOWN_ACTIONS}. */
export type TeardownAction = (typeof TEARDOWN_ACTIONS)[number];

/** Workflows the teardown handles at once unless told otherwise (`--concurrency`). */
export const DEFAULT_TEARDOWN_CONCURRENCY = 8;

/** One open workflow on a sandbox's task queue. */
export interface PinnedWorkflow {
  workflowId: string;
  runId: string;
  type: string;
  taskQueue: string;
  startTime: string;
  /** `SignadotRoutingKey` search attribute, when the starter recorded it. */
  routingKey: string | null;
  /** Set for a child workflow. */
  parentWorkflowId: string | null;
}

/** `open` (listed), `would-…` (dry run), `terminated` / `restarted` (done), `skipped`, `failed`. */
export type TeardownStatus =
  | 'open'
  | 'would-terminate'
  | 'terminated'
  | 'would-restart'
  | 'restarted'
  | 'skipped'
  | 'failed';

/** What happened to one workflow. */
export interface TeardownOutcome {
  workflow: PinnedWorkflow;
  status: TeardownStatus;
  /** Why it was skipped or failed, or what it was restarted as. */
  detail?: string;
  /** The run id of the restarted workflow on the baseline. */
  newRunId?: string;
}

/** Everything one teardown run did, as `--json` prints it. */
export interface TeardownReport {
  sandbox: string;
  /** The sandbox's task queue that was searched. */
  taskQueue: string;
  /** The shared queue restarted workflows go to. */
  sharedQueue: string;
  action: TeardownAction;
  dryRun: boolean;
  outcomes: TeardownOutcome[];
  /** True when any action failed. */
  failed: boolean;
}

/* Both end up inside a visibility query: only the characters their own formats allow get in. */
const QUEUE_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * The visibility query for `sandboxName`'s open workflows: those whose current run is on the
 * sandbox's task queue (`TaskQueue` is a system search attribute; no custom attribute needed, so it
 * also finds workflows that a client without search attributes started).
 * @throws TypeError when a name could not be a sandbox or queue name (and might inject query syntax)
 */
export function sandboxWorkflowsQuery(sharedQueue: string, sandboxName: string): string {
  if (!isSandboxName(sandboxName)) throw new TypeError(`not a sandbox name: ${JSON.stringify(sandboxName)}`);
  if (!QUEUE_NAME.test(sharedQueue))
    throw new TypeError(`not a task queue name: ${JSON.stringify(sharedQueue)}`);
  return `TaskQueue = '${sandboxTaskQueue(sharedQueue, sandboxName)}' AND ExecutionStatus = 'Running'`;
}

/**
 * Headers for restarting a workflow on the baseline: its own start headers (routing key,
 * `_tracer-data`, …) with the routing decision set to the shared queue, so neither the door nor the
 * first-task redirect sends it back to a sandbox that still holds its key. Messages a redirect
 * forwarded to the run are not carried over (like every other signal the old run received).
 */
export function restartHeaders(
  original: Record<string, Payload>,
  sharedQueue: string,
): Record<string, Payload> {
  const key = routingKeyFromTemporalHeaders(original)?.key;
  const { [REDIRECT_MANIFEST_HEADER]: _forwarded, ...kept } = original;
  const keyed = key ? withRoutingKeyHeader(kept, key) : kept;
  return withRoutingDecision(keyed, sharedQueue);
}

/**
 * The workflow's own arguments from a run's start: its input, less the payloads of messages a
 * redirect forwarded after them.
 */
export function startArguments(
  headers: Record<string, Payload>,
  input: readonly Payload[],
): readonly Payload[] {
  return unpackRedirect(headers, input)?.arguments ?? input;
}

/**
 * Supplies the headers of the starts this module makes. The Temporal client has no per-call header
 * option, so a client interceptor adds them, looked up by workflow id.
 */
class StartHeadersInterceptor implements WorkflowClientInterceptor {
  readonly byWorkflowId = new Map<string, Record<string, Payload>>();

  async startWithDetails(
    input: Parameters<Required<WorkflowClientInterceptor>['startWithDetails']>[0],
    next: Parameters<Required<WorkflowClientInterceptor>['startWithDetails']>[1],
  ) {
    const headers = this.byWorkflowId.get(input.options.workflowId);
    return next(headers ? { ...input, headers: { ...input.headers, ...headers } } : input);
  }
}

/** The error's message with its causes' (the client wraps gRPC errors: "Failed to start Workflow"). */
function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause === undefined ? '' : `: ${errorMessage(error.cause)}`;
  return `${error.message}${cause}`;
}

/** Lists, terminates and restarts the open workflows of deleted (or doomed) sandboxes. */
export class SandboxTeardown {
  private readonly startHeaders = new StartHeadersInterceptor();
  private readonly client: Client;
  /** What the list returned per run id: a restart takes memo and search attributes from it. */
  private readonly listedRuns = new Map<string, WorkflowExecutionInfo>();

  constructor(
    connection: Connection,
    namespace: string,
    /** The shared (baseline) task queue; sandbox queues derive from it. */
    private readonly sharedQueue: string,
  ) {
    this.client = new Client({ connection, namespace, interceptors: { workflow: [this.startHeaders] } });
  }

  /** The open workflows on `sandboxName`'s task queue, oldest first. */
  async list(sandboxName: string): Promise<PinnedWorkflow[]> {
    const query = sandboxWorkflowsQuery(this.sharedQueue, sandboxName);
    const found: PinnedWorkflow[] = [];
    for await (const info of this.client.workflow.list({ query })) {
      this.listedRuns.set(info.runId, info);
      found.push(this.describe(info));
    }
    return found.sort((a, b) => a.startTime.localeCompare(b.startTime));
  }

  private describe(info: WorkflowExecutionInfo): PinnedWorkflow {
    return {
      workflowId: info.workflowId,
      runId: info.runId,
      type: info.type,
      taskQueue: info.taskQueue,
      startTime: info.startTime.toISOString(),
      routingKey: info.typedSearchAttributes.get(ROUTING_KEY_SEARCH_ATTRIBUTE) ?? null,
      parentWorkflowId: info.parentExecution?.workflowId ?? null,
    };
  }

  /** Terminates one run, naming the sandbox in the reason (shown in the UI and history). */
  async terminate(workflow: PinnedWorkflow, sandboxName: string): Promise<void> {
    await this.client.workflow
      .getHandle(workflow.workflowId, workflow.runId)
      .terminate(`sandbox ${sandboxName} torn down: workflow terminated by the teardown command`);
  }

  /**
   * Replaces one run with the same workflow type, id and input on the shared queue, keeping its
   * routing key, memo and routing search attributes: one start with `TERMINATE_EXISTING`, so the
   * server terminates the running run and starts the new one atomically (a failed start leaves the
   * old run running). The new run starts from the beginning: whatever the old run had done is not
   * carried over.
   * @returns the new run id
   */
  async restartOnBaseline(workflow: PinnedWorkflow): Promise<string> {
    const handle = this.client.workflow.getHandle(workflow.workflowId, workflow.runId);
    // Two RPCs at most, whatever the run's length: a page of one event (the start) and, for a run the
    // list did not return, a describe.
    const [history, description] = await Promise.all([
      this.client.workflowService.getWorkflowExecutionHistory({
        namespace: this.client.options.namespace,
        execution: { workflowId: workflow.workflowId, runId: workflow.runId },
        maximumPageSize: 1,
      }),
      this.listedRuns.get(workflow.runId) ?? handle.describe(),
    ]);
    const started = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!started) throw new Error('history has no WorkflowExecutionStarted event');
    const converter = this.client.options.loadedDataConverter.payloadConverter;
    const originalHeaders = (started.header?.fields ?? {}) as Record<string, Payload>;
    const input = (started.input?.payloads ?? []) as Payload[];
    const args = startArguments(originalHeaders, input).map((payload) => converter.fromPayload(payload));
    const headers = restartHeaders(originalHeaders, this.sharedQueue);
    const routingKey = description.typedSearchAttributes.get(ROUTING_KEY_SEARCH_ATTRIBUTE);
    const recordedSandbox = description.typedSearchAttributes.get(SANDBOX_SEARCH_ATTRIBUTE);

    this.startHeaders.byWorkflowId.set(workflow.workflowId, headers);
    try {
      const restarted = await this.client.workflow.start(workflow.type, {
        workflowId: workflow.workflowId,
        taskQueue: this.sharedQueue,
        args,
        memo: description.memo,
        // Only our own attributes: system-managed ones (BuildIds, …) cannot be set by a client.
        typedSearchAttributes: [
          ...(routingKey ? [{ key: ROUTING_KEY_SEARCH_ATTRIBUTE, value: routingKey }] : []),
          ...(recordedSandbox ? [{ key: SANDBOX_SEARCH_ATTRIBUTE, value: BASELINE_LABEL }] : []),
        ],
        // The running run is replaced; one that completed meanwhile is not run again (the server
        // refuses REJECT_DUPLICATE together with TERMINATE_EXISTING).
        workflowIdConflictPolicy: 'TERMINATE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      });
      return restarted.firstExecutionRunId;
    } finally {
      this.startHeaders.byWorkflowId.delete(workflow.workflowId);
    }
  }

  /**
   * Lists `sandboxName`'s open workflows and applies `action` to each (or to those in
   * `workflowIds`; nothing changes with `dryRun`), `concurrency` at a time: on a busy server each
   * restart takes a few RPCs of up to half a second, so a sandbox with hundreds of open workflows
   * would take minutes one by one. A child whose parent is in the list is skipped: the parent's close
   * policy ends it and a restarted parent starts it again. Failures are reported per workflow, never
   * thrown; outcomes keep the list's order (oldest first).
   */
  async run(options: {
    sandboxName: string;
    action: TeardownAction;
    dryRun: boolean;
    /** Only these workflow ids (default: every open workflow of the sandbox). */
    workflowIds?: readonly string[];
    /** Workflows handled at once (default {@link DEFAULT_TEARDOWN_CONCURRENCY}). */
    concurrency?: number;
  }): Promise<TeardownReport> {
    const { sandboxName, action, dryRun, workflowIds } = options;
    const concurrency = options.concurrency ?? DEFAULT_TEARDOWN_CONCURRENCY;
    const all = await this.list(sandboxName);
    const listed = new Set(all.map((w) => w.workflowId));
    const workflows = workflowIds?.length ? all.filter((w) => workflowIds.includes(w.workflowId)) : all;
    const handle = async (workflow: PinnedWorkflow): Promise<TeardownOutcome> => {
      if (action === 'list') return { workflow, status: 'open' };
      if (workflow.parentWorkflowId && listed.has(workflow.parentWorkflowId))
        return {
          workflow,
          status: 'skipped',
          detail: `child of ${workflow.parentWorkflowId}, which is handled itself`,
        };
      if (dryRun) return { workflow, status: action === 'terminate' ? 'would-terminate' : 'would-restart' };
      return this.apply(workflow, sandboxName, action);
    };
    const outcomes = await mapWithConcurrency(workflows, concurrency, handle);
    return {
      sandbox: sandboxName,
      taskQueue: sandboxTaskQueue(this.sharedQueue, sandboxName),
      sharedQueue: this.sharedQueue,
      action,
      dryRun,
      outcomes,
      failed: outcomes.some((o) => o.status === 'failed'),
    };
  }

  private async apply(
    workflow: PinnedWorkflow,
    sandboxName: string,
    action: Exclude<TeardownAction, 'list'>,
  ): Promise<TeardownOutcome> {
    try {
      if (action === 'terminate') {
        await this.terminate(workflow, sandboxName);
        return { workflow, status: 'terminated' };
      }
      const newRunId = await this.restartOnBaseline(workflow);
      return { workflow, status: 'restarted', newRunId, detail: `restarted on ${this.sharedQueue}` };
    } catch (error) {
      return { workflow, status: 'failed', detail: errorMessage(error) };
    }
  }
}

/** A human-readable rendering of a report, one line per workflow. */
export function formatTeardownReport(report: TeardownReport): string {
  const verb =
    report.action === 'list' ? 'open' : report.dryRun ? `${report.action} (dry run)` : report.action;
  const lines = [
    `sandbox ${report.sandbox}: ${report.outcomes.length} open workflow(s) on task queue ${report.taskQueue}; action: ${verb}`,
  ];
  for (const { workflow, status, detail, newRunId } of report.outcomes) {
    const key = workflow.routingKey ? ` key=${workflow.routingKey}` : '';
    const parent = workflow.parentWorkflowId ? ` parent=${workflow.parentWorkflowId}` : '';
    const extra = [detail, newRunId ? `run ${newRunId}` : undefined].filter(Boolean).join(', ');
    lines.push(
      `  ${workflow.workflowId}  ${workflow.type}  started ${workflow.startTime}${key}${parent}  ${status}${extra ? ` (${extra})` : ''}`,
    );
  }
  return lines.join('\n');
}
