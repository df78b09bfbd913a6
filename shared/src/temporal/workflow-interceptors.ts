/**
 * Workflow interceptors for sandbox routing. This module runs inside Temporal's workflow sandbox
 * (register it with `workflowModules`; `createRoutingWorker` does). It must not import Node modules.
 *
 * - `execute` reads the routing key from the start headers (`sd-routing-key`, else `_tracer-data`).
 * - First-task redirect: a keyed workflow that no routing component placed (no `sd-routed` header)
 *   asks a local activity which queue owns its key; if that is not the queue it runs on, it
 *   continues-as-new there with the same id, arguments and headers. The answer is a marker in history,
 *   so replays decide the same way and a workflow never changes owner mid-flight.
 * - Every activity, local activity, child workflow, continue-as-new and outgoing signal gets the key.
 */
import type { Payload } from '@temporalio/common';
import {
  type ActivityInput,
  AsyncLocalStorage,
  type ContinueAsNewInput,
  type LocalActivityInput,
  makeContinueAsNewFunc,
  type Next,
  proxyLocalActivities,
  type QueryInput,
  type SignalInput,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
  workflowInfo,
} from '@temporalio/workflow';
import { routingKeyFromTemporalHeaders, withRoutingKeyHeader } from '../routing-key/temporal';
import {
  RESOLVE_QUEUE_ACTIVITY,
  type ResolvedQueue,
  readRoutingDecision,
  withRoutingDecision,
} from './headers';

type Headers = Record<string, Payload>;

/**
 * The key of the code currently running: a signal's own key inside its handler, else the workflow's.
 * Kept in AsyncLocalStorage, not a module variable: module state may be shared between workflows.
 */
const keyStorage = new AsyncLocalStorage<{ key: string | undefined }>();

/**
 * The routing key of the running workflow (inside a signal handler: the key the signal carried, if
 * any). Call it from workflow code.
 */
export function currentRoutingKey(): string | undefined {
  return keyStorage.getStore()?.key;
}

const resolveQueue = () =>
  proxyLocalActivities<Record<typeof RESOLVE_QUEUE_ACTIVITY, (key: string) => Promise<ResolvedQueue>>>({
    startToCloseTimeout: '10s',
    // The route table may be syncing or the routeserver briefly away: keep asking, gently.
    retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
  })[RESOLVE_QUEUE_ACTIVITY];

class SandboxRoutingInterceptor implements WorkflowInboundCallsInterceptor, WorkflowOutboundCallsInterceptor {
  private key: string | undefined;
  /** Start headers of a run being redirected, carried over whole (e.g. `_tracer-data`). */
  private redirectHeaders: Headers | undefined;

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    this.key = routingKeyFromTemporalHeaders(input.headers)?.key;
    if (this.key && readRoutingDecision(input.headers) === undefined) {
      const { ownerQueue } = await resolveQueue()(this.key);
      const { taskQueue, workflowType } = workflowInfo();
      if (ownerQueue !== taskQueue) {
        this.redirectHeaders = input.headers;
        // Same id (continue-as-new keeps it), arguments and headers; the run on the owner's queue
        // sees the decision header and skips this check.
        return makeContinueAsNewFunc({ taskQueue: ownerQueue, workflowType })(...input.args);
      }
    }
    return keyStorage.run({ key: this.key }, () => next(input));
  }

  handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>) {
    const signalKey = routingKeyFromTemporalHeaders(input.headers)?.key;
    return keyStorage.run({ key: signalKey ?? this.key }, () => next(input));
  }

  handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>) {
    return keyStorage.run({ key: this.key }, () => next(input));
  }

  handleQuery(input: QueryInput, next: Next<WorkflowInboundCallsInterceptor, 'handleQuery'>) {
    return keyStorage.run({ key: this.key }, () => next(input));
  }

  /** Adds the key, and the decision when the work stays on `targetQueue`'s decided queue. */
  private stamp(headers: Headers, targetQueue?: string): Headers {
    if (!this.key) return headers;
    const keyed = withRoutingKeyHeader(headers, this.key);
    return targetQueue ? withRoutingDecision(keyed, targetQueue) : keyed;
  }

  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    const queue = input.options.taskQueue ?? workflowInfo().taskQueue;
    return next({ ...input, headers: this.stamp(input.headers, queue) });
  }

  scheduleLocalActivity(
    input: LocalActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
  ) {
    return next({ ...input, headers: this.stamp(input.headers, workflowInfo().taskQueue) });
  }

  startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ) {
    // A child on its parent's queue inherits the parent's placement; elsewhere it checks for itself.
    const own = workflowInfo().taskQueue;
    const sameQueue = input.options.taskQueue === undefined || input.options.taskQueue === own;
    return next({ ...input, headers: this.stamp(input.headers, sameQueue ? own : undefined) });
  }

  continueAsNew(input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>) {
    const headers = this.redirectHeaders ? { ...this.redirectHeaders, ...input.headers } : input.headers;
    return next({
      ...input,
      headers: this.stamp(headers, input.options.taskQueue ?? workflowInfo().taskQueue),
    });
  }

  signalWorkflow(input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>) {
    return next({ ...input, headers: this.stamp(input.headers) });
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const interceptor = new SandboxRoutingInterceptor();
  return { inbound: [interceptor], outbound: [interceptor] };
};
