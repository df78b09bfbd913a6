/**
 * @packageDocumentation
 * Sandbox routing for Temporal: interceptors for clients (door routing), workflows (the key on every
 * call, the first-task redirect, work for other workloads) and activities (the ownership check), the
 * route-check local activity, tracing that keeps replays unchanged, and the routing key in Temporal
 * headers. Workflow code imports `@sandbox-routing/temporal/workflow`.
 */

/** The routing key of a call chain (from the core), so a Temporal app needs one import. */
export { currentRoutingKey, runWithRoutingKey } from '@sandbox-routing/core';
export {
  type ActivityRoutingOptions,
  activityRoutingInterceptors,
  type MismatchPolicy,
  ROUTE_MISMATCH_ERROR_TYPE,
} from './activity-interceptor';
export { RoutingClientInterceptor, type RoutingClientInterceptorOptions } from './client-interceptor';
export {
  RESOLVE_QUEUE_ACTIVITY,
  type ResolvedQueue,
  ROUTING_DECISION_HEADER,
  readRoutingDecision,
  withRoutingDecision,
} from './headers';
export {
  lookUpTemporalRoutingKey,
  routingKeyFromTemporalHeaders,
  type TemporalHeaders,
  withoutTracerDataKey,
  withRoutingKeyHeader,
  withTracerDataKey,
} from './key-headers';
export {
  type RouteserverSettings,
  SandboxRoutingConfigError,
  type SandboxRoutingOptions,
  SandboxRoutingPlugin,
  sandboxRouting,
} from './plugin';
export {
  type ForwardedSignal,
  type PackedRedirect,
  packRedirect,
  REDIRECT_MANIFEST_HEADER,
  type UnpackedRedirect,
  unpackRedirect,
} from './redirect';
export { ROUTING_KEY_SEARCH_ATTRIBUTE, SANDBOX_SEARCH_ATTRIBUTE } from './search-attributes';
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
