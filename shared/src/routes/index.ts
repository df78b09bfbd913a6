export { LubyBackoff, type LubyBackoffOptions } from './backoff';
export {
  parseRoutingRules,
  RouteserverClient,
  type RouteserverClientOptions,
  type RoutingRulesFilter,
  type RoutingRulesSource,
} from './client';
export {
  RouteserverResponseError,
  RouteserverUnavailableError,
  RouteserverWatchError,
  RouteTableNotSyncedError,
  RoutingError,
} from './errors';
export { type RoutingLogger, silentLogger } from './logger';
export {
  decideOwnership,
  effectiveNeverSyncedPolicy,
  type InstanceIdentity,
  instanceOwner,
  instanceTaskQueue,
  isOwnedBy,
  type OwnershipDecision,
  ownerOfTaskQueue,
  sandboxTaskQueue,
  sharedQueueOf,
  taskQueueOf,
} from './ownership';
export { ROUTES_PROTO_PATH, ROUTES_SERVICE, routesServiceDefinition } from './proto';
export {
  RouteTable,
  type RouteTableMode,
  type RouteTableOptions,
  type RouteTableStats,
} from './table';
export {
  BASELINE_LABEL,
  BASELINE_OWNER,
  instanceLabel,
  isSandboxName,
  type Owner,
  ownerFromLabel,
  ownerLabel,
  ownerOfSandboxName,
  type RoutingRule,
  SANDBOX_NAME,
  sameWorkload,
  type WorkloadRef,
} from './types';
export {
  RouteserverWatchClient,
  type RouteserverWatchClientOptions,
  type RoutingRuleChange,
  type RoutingRulesWatch,
  type RoutingRulesWatchListener,
  type RoutingRulesWatchSource,
  type WatchEnded,
} from './watch';
