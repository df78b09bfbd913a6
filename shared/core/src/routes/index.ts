export {
  Application,
  type ConsumerDeclaration,
  type DeclaredQueue,
  InvalidApplicationError,
  parseApplication,
  readApplicationFile,
  type WorkloadDeclaration,
} from './application';
export { ApplicationRoutes } from './application-routes';
export { LubyBackoff, type LubyBackoffOptions } from './backoff';
export {
  CARRIED_DECISION_HEADER,
  type CarriedDecision,
  decidedOwnerOf,
  formatCarriedDecision,
  parseCarriedDecision,
} from './carried-decision';
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
  type NeverSyncedPolicy,
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
  type WorkloadRoutes,
  workloadKey,
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
  SANDBOX_LABEL_PREFIX,
  SANDBOX_NAME,
  sameOwner,
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
