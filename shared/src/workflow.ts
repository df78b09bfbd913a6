/**
 * Workflow-side entry point (safe inside Temporal's workflow sandbox): import from
 * `@sandbox-routing/shared/workflow` in workflow code.
 */
export { currentRoutingKey, interceptors } from './temporal/workflow-interceptors';
