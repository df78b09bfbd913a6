import { trace } from '@opentelemetry/api';
import type { RoutingDecisionListener } from '@sandbox-routing/core';
import {
  type Application,
  type ApplicationRoutes,
  type InstanceIdentity,
  instanceLabel,
  instanceTaskQueue,
  ownerLabel,
  ROUTING_ATTRIBUTES,
  taskQueueOf,
  type WorkloadRoutes,
} from '@sandbox-routing/core';
import { Context as ActivityContext } from '@temporalio/activity';
import { type InjectedSinks, Worker, type WorkerOptions } from '@temporalio/worker';
import { activityRoutingInterceptors, type MismatchPolicy } from './activity-interceptor';
import { RESOLVE_QUEUE_ACTIVITY, type ResolvedQueue } from './headers';
import type { RoutingSinks } from './workflow-interceptors';

/**
 * Path of the workflow interceptor module, for `interceptors.workflowModules` or
 * `bundleWorkflowCode({ workflowInterceptorModules })` when you build the worker yourself.
 */
export const ROUTING_WORKFLOW_INTERCEPTORS = require.resolve('./workflow-interceptors');

export interface WorkerRoutingOptions {
  /** This instance: its baseline workload and, in a fork, its sandbox name. */
  identity: InstanceIdentity;
  /** Route table of this worker's own baseline workload. */
  routeTable: WorkloadRoutes;
  /** The shared task queue the baseline polls; a sandbox's queue is derived from it. */
  sharedQueue: string;
  mismatchPolicy?: MismatchPolicy;
  /**
   * Record `SignadotRoutingKey` / `SignadotSandbox` on workflows the first-task check placed, as door
   * routing does (register them on the namespace first: an unknown attribute fails the task).
   * Default `false`.
   */
  recordSearchAttributes?: boolean;
  /** Every decision: first-task checks, activity checks, refused keys (`action: 'key-refused'`). */
  onDecision?: RoutingDecisionListener;
  /**
   * The application's workloads (DESIGN §9): an activity, child workflow or continue-as-new that a
   * workflow aims at a shared queue another workload serves goes to that workload's owner for the key,
   * as the rules say when it is scheduled; a queue nobody declared is left as written. `routes` holds
   * the rules of every workload of `declaration` (one stream for all). Without it, only the worker's own
   * queue is routed.
   */
  application?: { declaration: Application; routes: Pick<ApplicationRoutes, 'ownerOf'> };
}

/**
 * The local activity behind the workflow interceptor's decisions (main thread, may do I/O): which queue
 * owns `key` — for the run's own workload (the first-task check), or, with `targetQueue`, for the
 * workload that serves that queue (work a workflow sends to another workload). The answer is recorded
 * in history, so a replay decides the same.
 */
export function resolveQueueActivity(routing: WorkerRoutingOptions) {
  return async (key: string, targetQueue?: string): Promise<ResolvedQueue> => {
    if (targetQueue !== undefined) return placeOnOtherWorkload(routing, key, targetQueue);
    const owner = await routing.routeTable.ownerOf(key);
    const ownerQueue = taskQueueOf(routing.sharedQueue, owner);
    const { workflowExecution, taskQueue } = ActivityContext.current().info;
    const ownedHere = ownerQueue === taskQueue;
    trace.getActiveSpan()?.setAttributes({
      [ROUTING_ATTRIBUTES.routingKey]: key,
      [ROUTING_ATTRIBUTES.owner]: ownerLabel(owner),
      [ROUTING_ATTRIBUTES.decision]: ownedHere ? 'stayed' : 'redirected',
    });
    routing.onDecision?.({
      component: 'workflow-redirect',
      action: ownedHere ? 'stay' : 'redirect',
      routingKey: key,
      owner: ownerLabel(owner),
      taskQueue: ownerQueue,
      workflowId: workflowExecution?.workflowId,
    });
    return {
      ownerQueue,
      owner: ownerLabel(owner),
      ownedHere,
      recordSearchAttributes: routing.recordSearchAttributes ?? false,
    };
  };
}

/** Where work a workflow aims at `targetQueue` goes: the owner's queue of the workload serving it, if declared. */
async function placeOnOtherWorkload(
  routing: WorkerRoutingOptions,
  key: string,
  targetQueue: string,
): Promise<ResolvedQueue> {
  const declared = routing.application?.declaration.queue(targetQueue);
  // Undeclared (e.g. a worker-specific queue), or a sandbox's queue written out in full: as written.
  if (declared?.owner.kind !== 'baseline' || !routing.application) {
    return { ownerQueue: targetQueue, owner: '', unrouted: true };
  }
  const owner = await routing.application.routes.ownerOf(key, declared.workload.baseline);
  const ownerQueue = taskQueueOf(declared.sharedQueue, owner);
  trace.getActiveSpan()?.setAttributes({
    [ROUTING_ATTRIBUTES.routingKey]: key,
    [ROUTING_ATTRIBUTES.owner]: ownerLabel(owner),
    [ROUTING_ATTRIBUTES.decision]: 'placed',
  });
  routing.onDecision?.({
    component: 'workflow-outbound',
    action: 'place',
    routingKey: key,
    owner: ownerLabel(owner),
    taskQueue: ownerQueue,
    workload: declared.workload.name,
    workflowId: ActivityContext.current().info.workflowExecution?.workflowId,
  });
  return { ownerQueue, owner: ownerLabel(owner) };
}

/** The worker side of the workflow interceptors' sink: refused keys become decision events. */
export function routingSinks(routing: WorkerRoutingOptions): InjectedSinks<RoutingSinks> {
  const owner = instanceLabel(routing.identity.sandboxName);
  return {
    sandboxRouting: {
      keyRefused: {
        fn: (info, { carrier, reason }) =>
          routing.onDecision?.({
            component: 'workflow',
            action: 'key-refused',
            routingKey: undefined,
            owner,
            taskQueue: info.taskQueue,
            workflowId: info.workflowId,
            carrier,
            reason,
          }),
        callDuringReplay: false,
      },
    },
  };
}

/**
 * Worker options with sandbox routing wired in: the instance's task queue (shared queue for the
 * baseline, the sandbox's queue for a fork), the workflow interceptor module, the activity
 * interceptor, the route-check local activity and the interceptors' sink.
 */
export function routingWorkerOptions(
  options: Omit<WorkerOptions, 'taskQueue'>,
  routing: WorkerRoutingOptions,
): WorkerOptions {
  const interceptors = options.interceptors ?? {};
  return {
    ...options,
    taskQueue: instanceTaskQueue(routing.sharedQueue, routing.identity),
    activities: { ...options.activities, [RESOLVE_QUEUE_ACTIVITY]: resolveQueueActivity(routing) },
    sinks: { ...options.sinks, ...routingSinks(routing) },
    interceptors: {
      ...interceptors,
      workflowModules: [...(interceptors.workflowModules ?? []), ROUTING_WORKFLOW_INTERCEPTORS],
      activity: [...(interceptors.activity ?? []), activityRoutingInterceptors(routing)],
    },
  };
}

/**
 * Creates a sandbox-aware worker:
 * ```ts
 * const worker = await createRoutingWorker(
 *   { connection, workflowsPath: require.resolve('./workflows'), activities },
 *   { identity, routeTable, sharedQueue: 'orders' },
 * );
 * ```
 */
export function createRoutingWorker(
  options: Omit<WorkerOptions, 'taskQueue'>,
  routing: WorkerRoutingOptions,
): Promise<Worker> {
  return Worker.create(routingWorkerOptions(options, routing));
}
