/**
 * Workflow-side entry point (safe inside Temporal's workflow sandbox): import from
 * `@sandbox-routing/temporal/workflow` in workflow code.
 */
export {
  BASELINE_LABEL,
  ownerLabel,
  ownerOfTaskQueue,
  sharedQueueOf,
} from '@sandbox-routing/core/workflow';
export { lookUpTemporalRoutingKey, routingKeyFromTemporalHeaders } from './key-headers';
export { currentRoutingKey, interceptors } from './workflow-interceptors';
