/**
 * Workflow-side entry point (safe inside Temporal's workflow sandbox): import from
 * `@sandbox-routing/shared/workflow` in workflow code.
 */
export { ownerOfTaskQueue, sharedQueueOf } from './routes/ownership';
export { BASELINE_LABEL, ownerLabel } from './routes/types';
export { routingKeyFromTemporalHeaders } from './routing-key/temporal';
export { currentRoutingKey, interceptors } from './temporal/workflow-interceptors';
