import type { RouteserverConfig, SignadotIdentityConfig } from '../config';
import {
  type InstanceIdentity,
  RouteserverClient,
  RouteserverWatchClient,
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

/** Reconnect delays of the watch: Luby sequence of 1 s steps up to 30 s, as Signadot's Go client. */
const WATCH_RECONNECT = { reconnectBaseMs: 1000, reconnectMaxMs: 30_000 } as const;

/**
 * A started route table for `baseline` from the routeserver settings: it watches the gRPC address when
 * one is set (HTTP polling as the fallback), else it polls.
 */
export function startRouteTable(
  config: RouteserverConfig,
  baseline: WorkloadRef,
  logger?: RoutingLogger,
): RouteTable {
  const watch = config.grpcAddress
    ? new RouteserverWatchClient({
        address: config.grpcAddress,
        // A process that is busy starting (the worker bundles its workflow code) may not see its
        // connection for seconds: allow half the first-sync wait, leaving half to the polling fallback.
        connectTimeoutMs: Math.max(config.requestTimeoutMs, config.firstSyncTimeoutMs / 2),
        syncTimeoutMs: config.firstSyncTimeoutMs,
        ...WATCH_RECONNECT,
        logger,
      })
    : undefined;
  return new RouteTable({
    client: new RouteserverClient({ url: config.url, requestTimeoutMs: config.requestTimeoutMs }),
    watch,
    baseline,
    refreshIntervalMs: config.refreshIntervalMs,
    unknownKeyRefetchIntervalMs: config.unknownKeyRefetchIntervalMs,
    firstSyncTimeoutMs: config.firstSyncTimeoutMs,
    logger,
  }).start();
}
