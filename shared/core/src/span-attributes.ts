/**
 * Names of the routing attributes on spans (OpenTelemetry attribute naming: a namespace, dots,
 * snake_case). Safe inside the workflow sandbox: no imports.
 *
 * Every span a routing component touches says which key it routed, whose work that is, which
 * instance did the work, and what was decided, so "my event went to the baseline — why?" reads off
 * one trace.
 */
export const ROUTING_ATTRIBUTES = {
  /** The routing key (`sd-routing-key`). */
  routingKey: 'sandbox_routing.routing_key',
  /** Who owns the key's work: `baseline` or the sandbox name (`ownerLabel`). */
  owner: 'sandbox_routing.owner',
  /** The instance that made the span: `baseline` or its sandbox name (`instanceLabel`). */
  instance: 'sandbox_routing.instance',
  /** What the component decided; see {@link RoutingSpanDecision}. */
  decision: 'sandbox_routing.decision',
  /** Why, when the decision has a reason (a dead letter, a refused key). */
  reason: 'sandbox_routing.reason',
  /** The event the work is about (`PipelineEvent.id`). */
  eventId: 'sandbox_routing.event_id',
} as const;

/**
 * Decisions as spans name them.
 * - ingress (on its `process <topic>` span): `owned` (it starts the workflow), `duplicate` (a
 *   redelivery: the workflow exists), `forwarded` (to the owner's topic), `skipped` (not an event of
 *   its own), `dead-lettered` (with a reason), `fenced` (a teardown marker);
 * - client (`StartWorkflow`): `door-routed` (started on the owner's queue);
 * - workflow: `placed` (a routing component chose its queue), `stayed` / `redirected` (its
 *   first-task check answered);
 * - activity: `owned` / `mismatch`.
 */
export type RoutingSpanDecision =
  | 'owned'
  | 'duplicate'
  | 'fenced'
  | 'door-routed'
  | 'forwarded'
  | 'skipped'
  | 'dead-lettered'
  | 'placed'
  | 'stayed'
  | 'redirected'
  | 'mismatch';
