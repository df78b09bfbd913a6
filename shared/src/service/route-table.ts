import type { RouteserverConfig, SignadotIdentityConfig } from '../config';
import {
  type InstanceIdentity,
  RouteserverClient,
  RouteTable,
  type RoutingLogger,
  type WorkloadRef,
} from '../routes';

/** This instance's identity from the Signadot settings. */
export function instanceIdentity(signadot: SignadotIdentityConfig): InstanceIdentity {
  return {
    baseline: {
      kind: signadot.baselineKind,
      namespace: signadot.baselineNamespace,
      name: signadot.baselineName,
    },
    sandboxName: signadot.sandboxName,
  };
}

/** A started route table for `baseline` from the routeserver settings. */
export function startRouteTable(
  config: RouteserverConfig,
  baseline: WorkloadRef,
  logger?: RoutingLogger,
): RouteTable {
  return new RouteTable({
    client: new RouteserverClient({ url: config.url, requestTimeoutMs: config.requestTimeoutMs }),
    baseline,
    refreshIntervalMs: config.refreshIntervalMs,
    unknownKeyRefetchIntervalMs: config.unknownKeyRefetchIntervalMs,
    firstSyncTimeoutMs: config.firstSyncTimeoutMs,
    logger,
  }).start();
}
