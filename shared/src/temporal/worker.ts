import { Context as ActivityContext } from '@temporalio/activity';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import {
  type InstanceIdentity,
  instanceTaskQueue,
  ownerLabel,
  type RouteTable,
  taskQueueOf,
} from '../routes';
import { activityRoutingInterceptors, type MismatchPolicy } from './activity-interceptor';
import type { RoutingDecisionListener } from './decisions';
import { RESOLVE_QUEUE_ACTIVITY, type ResolvedQueue } from './headers';

/**
 * Path of the workflow interceptor module, for `interceptors.workflowModules` or
 * `bundleWorkflowCode({ workflowInterceptorModules })` when you build the worker yourself.
 */
export const ROUTING_WORKFLOW_INTERCEPTORS = require.resolve('./workflow-interceptors');

export interface WorkerRoutingOptions {
  /** This instance: its baseline workload and, in a fork, its sandbox name. */
  identity: InstanceIdentity;
  /** Route table of this worker's own baseline workload. */
  routeTable: RouteTable;
  /** The shared task queue the baseline polls; a sandbox's queue is derived from it. */
  sharedQueue: string;
  mismatchPolicy?: MismatchPolicy;
  onDecision?: RoutingDecisionListener;
}

/** The local activity behind the first-task redirect: which queue owns `key`? (main thread, may do I/O) */
export function resolveQueueActivity(routing: WorkerRoutingOptions) {
  return async (key: string): Promise<ResolvedQueue> => {
    const owner = await routing.routeTable.ownerOf(key);
    const ownerQueue = taskQueueOf(routing.sharedQueue, owner);
    const { workflowExecution, taskQueue } = ActivityContext.current().info;
    routing.onDecision?.({
      component: 'workflow-redirect',
      action: ownerQueue === taskQueue ? 'stay' : 'redirect',
      routingKey: key,
      owner: ownerLabel(owner),
      taskQueue: ownerQueue,
      workflowId: workflowExecution?.workflowId,
    });
    return { ownerQueue, owner: ownerLabel(owner) };
  };
}

/**
 * Worker options with sandbox routing wired in: the instance's task queue (shared queue for the
 * baseline, the sandbox's queue for a fork), the workflow interceptor module, the activity
 * interceptor and the route-check local activity.
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
