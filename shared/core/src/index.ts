/**
 * @packageDocumentation
 * The routing core: the routing key and its carriers (W3C baggage, Kafka and HTTP headers), the
 * routeserver's rules (route tables fed by its watch or by polling), owners and ownership decisions,
 * the application's workloads, and decisions carried with the work. No Temporal, no Kafka, no HTTP
 * server. `@sandbox-routing/core/workflow` is the part that is safe inside Temporal's workflow sandbox.
 */
export {
  ROUTE_MISMATCH_ERROR_TYPE,
  type RoutingDecisionEvent,
  type RoutingDecisionListener,
} from './decisions';
export * from './routes';
export {
  currentCarriedDecision,
  currentRoutingKey,
  currentRoutingOwner,
  runWithCarriedDecision,
  runWithRoutingKey,
} from './routing-context';
export * from './routing-key';
export { ROUTING_ATTRIBUTES, type RoutingSpanDecision } from './span-attributes';
