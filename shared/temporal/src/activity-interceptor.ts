import { trace } from '@opentelemetry/api';
import type { RoutingDecisionListener } from '@sandbox-routing/core';
import {
  type InstanceIdentity,
  instanceLabel,
  instanceTaskQueue,
  ownerLabel,
  ownerOfTaskQueue,
  ROUTE_MISMATCH_ERROR_TYPE,
  ROUTING_ATTRIBUTES,
  runWithRoutingKey,
  taskQueueOf,
  type WorkloadRoutes,
} from '@sandbox-routing/core';
import type { Context as ActivityContext } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  ActivityOutboundCallsInterceptor,
  GetLogAttributesInput,
  Next,
} from '@temporalio/worker';
import { RESOLVE_QUEUE_ACTIVITY, readRoutingDecision } from './headers';
import { routingKeyFromTemporalHeaders } from './key-headers';

/**
 * What an activity that reached the wrong instance does. `log`: run it and report the mismatch (the
 * right choice when every worker polls only its own queue: a mismatch then means a stale table, not a
 * wrong pick). `retry`: fail the attempt with a benign, retriable `SandboxRouteMismatch` and a short
 * `nextRetryDelay`, so another poller of a shared activity queue takes it — never a silent wrong result.
 */
export type MismatchPolicy = 'log' | 'retry';

export { ROUTE_MISMATCH_ERROR_TYPE };

export interface ActivityRoutingOptions {
  identity: InstanceIdentity;
  routeTable: WorkloadRoutes;
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
 * without one, the route table decides. The active span (`RunActivity`, when Temporal's
 * OpenTelemetry interceptors run outside this one) gets the routing attributes, and the activity's
 * log lines (`log` from `@temporalio/activity`) the routing key and owner.
 */
export function activityRoutingInterceptors(options: ActivityRoutingOptions): ActivityInterceptorsFactory {
  const ownQueue = instanceTaskQueue(options.sharedQueue, options.identity);
  const policy = options.mismatchPolicy ?? 'log';
  const instance = instanceLabel(options.identity.sandboxName);

  return (ctx: ActivityContext) => {
    /** This attempt's key and owner, for its log lines. */
    let logged: { routingKey: string; owner?: string } | undefined;
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
        const key = routingKeyFromTemporalHeaders(input.headers)?.key;
        const { activityType, isLocal, workflowExecution } = ctx.info;
        const span = trace.getActiveSpan();
        span?.setAttribute(ROUTING_ATTRIBUTES.instance, instance);
        if (key) span?.setAttribute(ROUTING_ATTRIBUTES.routingKey, key);
        let owner: string | undefined;
        // Local activities run on their workflow's worker by construction; nothing to check.
        if (!isLocal && activityType !== RESOLVE_QUEUE_ACTIVITY) {
          const decided = readRoutingDecision(input.headers);
          const expectedQueue =
            decided ?? taskQueueOf(options.sharedQueue, await options.routeTable.ownerOf(key));
          const owned = expectedQueue === ownQueue;
          const expectedOwner = ownerOfTaskQueue(options.sharedQueue, expectedQueue);
          owner = expectedOwner ? ownerLabel(expectedOwner) : expectedQueue;
          span?.setAttributes({
            [ROUTING_ATTRIBUTES.owner]: owner,
            [ROUTING_ATTRIBUTES.decision]: owned ? 'owned' : 'mismatch',
          });
          options.onDecision?.({
            component: 'activity',
            action: owned ? 'owned' : 'mismatch',
            routingKey: key,
            owner,
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
        if (!key) return next(input);
        logged = owner === undefined ? { routingKey: key } : { routingKey: key, owner };
        return runWithRoutingKey(key, () => next(input), owner);
      },
    };
    const outbound: ActivityOutboundCallsInterceptor = {
      getLogAttributes(
        input: GetLogAttributesInput,
        next: Next<ActivityOutboundCallsInterceptor, 'getLogAttributes'>,
      ) {
        return next(logged ? { ...logged, ...input } : input);
      },
    };
    return { inbound, outbound };
  };
}
