/**
 * The part of the routing core that is safe inside Temporal's workflow sandbox (no Node modules, no
 * I/O): owners and their task queues, and the routing key's codec. Workflow-side code imports this,
 * never the package's main entry (which loads gRPC).
 */
export { RouteTableNotSyncedError, RoutingError } from './routes/errors';
export {
  instanceTaskQueue,
  ownerOfTaskQueue,
  sandboxTaskQueue,
  sharedQueueOf,
  taskQueueOf,
} from './routes/ownership';
export {
  BASELINE_LABEL,
  BASELINE_OWNER,
  instanceLabel,
  type Owner,
  ownerFromLabel,
  ownerLabel,
  ownerOfSandboxName,
} from './routes/types';
export { formatBaggage, parseBaggage } from './routing-key/baggage';
export * from './routing-key/carriers';
export * from './routing-key/constants';
export * from './routing-key/key';
export { ROUTING_ATTRIBUTES, type RoutingSpanDecision } from './span-attributes';
