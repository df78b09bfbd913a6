/**
 * Sandbox teardown: workflows pinned to a sandbox's task queue wait forever once the sandbox (and
 * its worker) is gone. These functions list them with what each already ran, and terminate them or
 * restart them on the baseline. A restart starts from the beginning and so runs again whatever already
 * ran: unless told otherwise, a workflow with such steps is left open and reported for a human to decide.
 * The `teardown` command (teardown.ts) is the CLI around them.
 */
import { BASELINE_LABEL, isSandboxName, sandboxTaskQueue } from '@sandbox-routing/core';
import {
  REDIRECT_MANIFEST_HEADER,
  ROUTING_KEY_SEARCH_ATTRIBUTE,
  routingKeyFromTemporalHeaders,
  SANDBOX_SEARCH_ATTRIBUTE,
  unpackRedirect,
  withRoutingDecision,
  withRoutingKeyHeader,
} from '@sandbox-routing/temporal';
import {
  Client,
  type Connection,
  type Payload,
  type WorkflowClientInterceptor,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { mapWithConcurrency } from './map-with-concurrency';
import { type StepThatRan, stepsThatRan, type WorkflowWait, workflowWait } from './steps-that-ran';

export type { StepThatRan, WorkflowWait } from './steps-that-ran';

/** What the teardown command can do with each open workflow of a sandbox. */
export const TEARDOWN_ACTIONS = ['list', 'terminate', 'restart-on-baseline'] as const;
/** One of {@link TEARDOWN_ACTIONS}. */
export type TeardownAction = (typeof TEARDOWN_ACTIONS)[number];

/**
 * What `restart-on-baseline` does with a workflow some of whose steps already ran (activities, local
 * activities, child workflows): `skip` leaves it open and reports it (`needs-decision`), `restart`
 * restarts it all the same (those steps run again), `terminate` ends it (nothing more runs).
 */
export const IF_ACTIVITIES_RAN = ['skip', 'restart', 'terminate'] as const;
/** One of {@link IF_ACTIVITIES_RAN}. */
export type IfActivitiesRan = (typeof IF_ACTIVITIES_RAN)[number];
/** Safe: nothing runs twice and nothing is ended without a human's word. */
export const DEFAULT_IF_ACTIVITIES_RAN: IfActivitiesRan = 'skip';

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
  /** Its activities, local activities and child workflows that already ran, in the order it scheduled them. */
  alreadyRan: StepThatRan[];
  awaits: WorkflowWait;
}

/**
 * `open` (listed), `would-…` (dry run), `terminated` / `restarted` (done), `skipped` (a child handled
 * with its parent), `needs-decision` (left open: steps of it already ran), `failed`.
 */
export type TeardownStatus =
  | 'open'
  | 'would-terminate'
  | 'terminated'
  | 'would-restart'
  | 'restarted'
  | 'skipped'
  | 'needs-decision'
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
  /** What `restart-on-baseline` did with workflows whose steps already ran; null for other actions. */
  ifActivitiesRan: IfActivitiesRan | null;
  dryRun: boolean;
  outcomes: TeardownOutcome[];
  /** True when any action failed. */
  failed: boolean;
  /** Workflows left open because steps of theirs already ran (status `needs-decision`). */
  needsDecision: number;
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

/** What a restart needs of a run, read while listing it. */
interface InspectedRun {
  started: WorkflowExecutionStartedAttributes;
  description: WorkflowExecutionDescription;
}

type WorkflowExecutionStartedAttributes = NonNullable<
  NonNullable<
    NonNullable<
      Awaited<ReturnType<Client['workflowService']['getWorkflowExecutionHistory']>>['history']
    >['events']
  >[number]['workflowExecutionStartedEventAttributes']
>;

/** Lists, terminates and restarts the open workflows of deleted (or doomed) sandboxes. */
export class SandboxTeardown {
  private readonly startHeaders = new StartHeadersInterceptor();
  private readonly client: Client;
  /** What listing read of each run (by run id): a restart takes its start, memo and search attributes. */
  private readonly inspected = new Map<string, InspectedRun>();

  constructor(
    connection: Connection,
    namespace: string,
    /** The shared (baseline) task queue; sandbox queues derive from it. */
    private readonly sharedQueue: string,
  ) {
    this.client = new Client({ connection, namespace, interceptors: { workflow: [this.startHeaders] } });
  }

  /**
   * The open workflows on `sandboxName`'s task queue, oldest first, each with what it already ran: its
   * whole history and a describe per run, `concurrency` runs at a time.
   */
  async list(sandboxName: string, concurrency = DEFAULT_TEARDOWN_CONCURRENCY): Promise<PinnedWorkflow[]> {
    const query = sandboxWorkflowsQuery(this.sharedQueue, sandboxName);
    const infos: WorkflowExecutionInfo[] = [];
    for await (const info of this.client.workflow.list({ query })) infos.push(info);
    const found = await mapWithConcurrency(infos, concurrency, (info) => this.inspect(info));
    return found.sort((a, b) => a.startTime.localeCompare(b.startTime));
  }

  private async inspect(info: WorkflowExecutionInfo): Promise<PinnedWorkflow> {
    const handle = this.client.workflow.getHandle(info.workflowId, info.runId);
    const [history, description] = await Promise.all([handle.fetchHistory(), handle.describe()]);
    const events = history.events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    if (started) this.inspected.set(info.runId, { started, description });
    return {
      workflowId: info.workflowId,
      runId: info.runId,
      type: info.type,
      taskQueue: info.taskQueue,
      startTime: info.startTime.toISOString(),
      routingKey: info.typedSearchAttributes.get(ROUTING_KEY_SEARCH_ATTRIBUTE) ?? null,
      parentWorkflowId: info.parentExecution?.workflowId ?? null,
      alreadyRan: stepsThatRan(events, description.raw.pendingActivities ?? []),
      awaits: workflowWait(description.raw),
    };
  }

  /** The run's start event and description: from the listing, or read now for a run it did not return. */
  private async startOf(workflow: PinnedWorkflow): Promise<InspectedRun> {
    const listed = this.inspected.get(workflow.runId);
    if (listed) return listed;
    const handle = this.client.workflow.getHandle(workflow.workflowId, workflow.runId);
    // A page of one event (the start), however long the run is.
    const [history, description] = await Promise.all([
      this.client.workflowService.getWorkflowExecutionHistory({
        namespace: this.client.options.namespace,
        execution: { workflowId: workflow.workflowId, runId: workflow.runId },
        maximumPageSize: 1,
      }),
      handle.describe(),
    ]);
    const started = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!started) throw new Error('history has no WorkflowExecutionStarted event');
    return { started, description };
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
   * old run running). The new run starts from the beginning, so every step in `workflow.alreadyRan`
   * runs again.
   * @returns the new run id
   */
  async restartOnBaseline(workflow: PinnedWorkflow): Promise<string> {
    const { started, description } = await this.startOf(workflow);
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
   * policy ends it and a restarted parent starts it again. A restart of a workflow some of whose steps
   * already ran follows `ifActivitiesRan`. Failures are reported per workflow, never thrown; outcomes
   * keep the list's order (oldest first).
   */
  async run(options: {
    sandboxName: string;
    action: TeardownAction;
    dryRun: boolean;
    /** For `restart-on-baseline` (default {@link DEFAULT_IF_ACTIVITIES_RAN}). */
    ifActivitiesRan?: IfActivitiesRan;
    /** Only these workflow ids (default: every open workflow of the sandbox). */
    workflowIds?: readonly string[];
    /** Workflows handled at once (default {@link DEFAULT_TEARDOWN_CONCURRENCY}). */
    concurrency?: number;
  }): Promise<TeardownReport> {
    const { sandboxName, action, dryRun, workflowIds } = options;
    const ifActivitiesRan =
      action === 'restart-on-baseline' ? (options.ifActivitiesRan ?? DEFAULT_IF_ACTIVITIES_RAN) : null;
    const concurrency = options.concurrency ?? DEFAULT_TEARDOWN_CONCURRENCY;
    const all = await this.list(sandboxName, concurrency);
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
      const ran = workflow.alreadyRan.length;
      let todo: Exclude<TeardownAction, 'list'> = action;
      let detail: string | undefined;
      if (action === 'restart-on-baseline' && ran > 0) {
        if (ifActivitiesRan === 'skip')
          return {
            workflow,
            status: 'needs-decision',
            detail: `${ran} step(s) already ran; a restart would run them again`,
          };
        if (ifActivitiesRan === 'terminate') {
          todo = 'terminate';
          detail = `${ran} step(s) already ran: terminated, not restarted`;
        } else {
          detail = `${ran} step(s) that already ran run again`;
        }
      }
      if (dryRun)
        return { workflow, status: todo === 'terminate' ? 'would-terminate' : 'would-restart', detail };
      return this.apply(workflow, sandboxName, todo, detail);
    };
    const outcomes = await mapWithConcurrency(workflows, concurrency, handle);
    return {
      sandbox: sandboxName,
      taskQueue: sandboxTaskQueue(this.sharedQueue, sandboxName),
      sharedQueue: this.sharedQueue,
      action,
      ifActivitiesRan,
      dryRun,
      outcomes,
      failed: outcomes.some((o) => o.status === 'failed'),
      needsDecision: outcomes.filter((o) => o.status === 'needs-decision').length,
    };
  }

  private async apply(
    workflow: PinnedWorkflow,
    sandboxName: string,
    action: Exclude<TeardownAction, 'list'>,
    detail: string | undefined,
  ): Promise<TeardownOutcome> {
    try {
      if (action === 'terminate') {
        await this.terminate(workflow, sandboxName);
        return { workflow, status: 'terminated', detail };
      }
      const newRunId = await this.restartOnBaseline(workflow);
      const restarted = `restarted on ${this.sharedQueue}`;
      return {
        workflow,
        status: 'restarted',
        newRunId,
        detail: detail ? `${restarted}; ${detail}` : restarted,
      };
    } catch (error) {
      return { workflow, status: 'failed', detail: errorMessage(error) };
    }
  }
}

const WAITS: Record<WorkflowWait, string> = {
  'workflow-task': 'a worker to run its code (every step it scheduled has ended)',
  activity: 'an activity',
  'child-workflow': 'a child workflow',
  'message-or-timer': 'a signal, an update or a timer',
};

/**
 * A human-readable rendering of a report: a line per workflow, then what already ran of it and what
 * it waits for; after the list, how to decide about workflows left open.
 */
export function formatTeardownReport(report: TeardownReport): string {
  const verb =
    report.action === 'list' ? 'open' : report.dryRun ? `${report.action} (dry run)` : report.action;
  const policy = report.ifActivitiesRan ? ` (if activities ran: ${report.ifActivitiesRan})` : '';
  const lines = [
    `sandbox ${report.sandbox}: ${report.outcomes.length} open workflow(s) on task queue ${report.taskQueue}; action: ${verb}${policy}`,
  ];
  for (const { workflow, status, detail, newRunId } of report.outcomes) {
    const key = workflow.routingKey ? ` key=${workflow.routingKey}` : '';
    const parent = workflow.parentWorkflowId ? ` parent=${workflow.parentWorkflowId}` : '';
    const extra = [detail, newRunId ? `run ${newRunId}` : undefined].filter(Boolean).join(', ');
    lines.push(
      `  ${workflow.workflowId}  ${workflow.type}  started ${workflow.startTime}${key}${parent}  ${status}${extra ? ` (${extra})` : ''}`,
    );
    for (const step of workflow.alreadyRan) {
      lines.push(`      ran: ${step.kind} ${step.type} ${step.outcome}${step.at ? ` ${step.at}` : ''}`);
    }
    lines.push(`      waits for ${WAITS[workflow.awaits]}`);
  }
  if (report.needsDecision > 0) {
    lines.push(
      '',
      `${report.needsDecision} workflow(s) left open: steps of theirs already ran, and a restart from the start runs them again.`,
      'Decide for each (--workflow-id <id>, repeatable):',
      '  --action restart-on-baseline --if-activities-ran restart    restart anyway; the steps above run again',
      '  --action terminate                                            end it; nothing more of it runs',
      "  or run the sandbox's worker (same code, same queue) again until it finishes where it is",
    );
  }
  return lines.join('\n');
}
