export {
  type ActivityRoutingOptions,
  activityRoutingInterceptors,
  type MismatchPolicy,
  ROUTE_MISMATCH_ERROR_TYPE,
} from './activity-interceptor';
export {
  ROUTING_KEY_SEARCH_ATTRIBUTE,
  RoutingClientInterceptor,
  type RoutingClientInterceptorOptions,
  SANDBOX_SEARCH_ATTRIBUTE,
} from './client-interceptor';
export type { RoutingDecisionEvent, RoutingDecisionListener } from './decisions';
export {
  RESOLVE_QUEUE_ACTIVITY,
  type ResolvedQueue,
  ROUTING_DECISION_HEADER,
  readRoutingDecision,
  withRoutingDecision,
} from './headers';
export { currentRoutingKey, runWithRoutingKey } from './routing-context';
export {
  createRoutingWorker,
  ROUTING_WORKFLOW_INTERCEPTORS,
  resolveQueueActivity,
  routingWorkerOptions,
  type WorkerRoutingOptions,
} from './worker';
