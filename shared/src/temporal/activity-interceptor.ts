import type { Context as ActivityContext } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  Next,
} from '@temporalio/worker';
import {
  type InstanceIdentity,
  instanceTaskQueue,
  ownerLabel,
  ownerOfTaskQueue,
  type RouteTable,
  taskQueueOf,
} from '../routes';
import { routingKeyFromTemporalHeaders } from '../routing-key';
import type { RoutingDecisionListener } from './decisions';
import { RESOLVE_QUEUE_ACTIVITY, readRoutingDecision } from './headers';
import { runWithRoutingKey } from './routing-context';

/**
 * What an activity that reached the wrong instance does. `log`: run it and report the mismatch (the
 * right choice when every worker polls only its own queue: a mismatch then means a stale table, not a
 * wrong pick). `retry`: fail the attempt with a benign, retriable `SandboxRouteMismatch` and a short
 * `nextRetryDelay`, so another poller of a shared activity queue takes it — never a silent wrong result.
 */
export type MismatchPolicy = 'log' | 'retry';

export const ROUTE_MISMATCH_ERROR_TYPE = 'SandboxRouteMismatch';

export interface ActivityRoutingOptions {
  identity: InstanceIdentity;
  routeTable: RouteTable;
  /** The shared (baseline) task queue. */
  sharedQueue: string;
  mismatchPolicy?: MismatchPolicy;
  /** Delay before the retry of a mismatched attempt (policy `retry`). */
  mismatchRetryDelayMs?: number;
  onDecision?: RoutingDecisionListener;
}

/**
 * Activity interceptor: runs each activity inside a context holding its routing key (our
 * AsyncLocalStorage and OpenTelemetry baggage, so outgoing HTTP calls carry it), and checks that this
 * instance owns the work. The owner is the queue the workflow was placed on (`sd-routed` header);
 * without one, the route table decides.
 */
export function activityRoutingInterceptors(options: ActivityRoutingOptions): ActivityInterceptorsFactory {
  const ownQueue = instanceTaskQueue(options.sharedQueue, options.identity);
  const policy = options.mismatchPolicy ?? 'log';

  return (ctx: ActivityContext) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
        const key = routingKeyFromTemporalHeaders(input.headers)?.key;
        const { activityType, isLocal, workflowExecution } = ctx.info;
        // Local activities run on their workflow's worker by construction; nothing to check.
        if (!isLocal && activityType !== RESOLVE_QUEUE_ACTIVITY) {
          const decided = readRoutingDecision(input.headers);
          const expectedQueue =
            decided ?? taskQueueOf(options.sharedQueue, await options.routeTable.ownerOf(key));
          const owned = expectedQueue === ownQueue;
          options.onDecision?.({
            component: 'activity',
            action: owned ? 'owned' : 'mismatch',
            routingKey: key,
            owner: (() => {
              const owner = ownerOfTaskQueue(options.sharedQueue, expectedQueue);
              return owner ? ownerLabel(owner) : expectedQueue;
            })(),
            taskQueue: ownQueue,
            workflowId: workflowExecution?.workflowId,
            activityType,
          });
          if (!owned && policy === 'retry') {
            throw ApplicationFailure.create({
              type: ROUTE_MISMATCH_ERROR_TYPE,
              message: `activity ${activityType} belongs on task queue ${expectedQueue}, not ${ownQueue}`,
              nonRetryable: false,
              nextRetryDelay: options.mismatchRetryDelayMs ?? 100,
              category: 'BENIGN',
            });
          }
        }
        return key ? runWithRoutingKey(key, () => next(input)) : next(input);
      },
    };
    return { inbound };
  };
}
