export {
  type ActivityRoutingOptions,
  activityRoutingInterceptors,
  type MismatchPolicy,
  ROUTE_MISMATCH_ERROR_TYPE,
} from './activity-interceptor';
export { RoutingClientInterceptor, type RoutingClientInterceptorOptions } from './client-interceptor';
export type { RoutingDecisionEvent, RoutingDecisionListener } from './decisions';
export {
  RESOLVE_QUEUE_ACTIVITY,
  type ResolvedQueue,
  ROUTING_DECISION_HEADER,
  readRoutingDecision,
  withRoutingDecision,
} from './headers';
export {
  type ForwardedSignal,
  type PackedRedirect,
  packRedirect,
  REDIRECT_MANIFEST_HEADER,
  type UnpackedRedirect,
  unpackRedirect,
} from './redirect';
export { currentRoutingKey, currentRoutingOwner, runWithRoutingKey } from './routing-context';
export { ROUTING_KEY_SEARCH_ATTRIBUTE, SANDBOX_SEARCH_ATTRIBUTE } from './search-attributes';
export { ROUTING_ATTRIBUTES, type RoutingSpanDecision } from './span-attributes';
export {
  readableWorkflowSpan,
  TRACING_WORKFLOW_INTERCEPTORS,
  type TracingTelemetry,
  tracingClientInterceptors,
  tracingWorkerOptions,
  workflowSpanSink,
} from './tracing';
export {
  createRoutingWorker,
  ROUTING_WORKFLOW_INTERCEPTORS,
  resolveQueueActivity,
  routingWorkerOptions,
  type WorkerRoutingOptions,
} from './worker';
export type { RoutingSinks } from './workflow-interceptors';
