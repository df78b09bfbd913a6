import {
  type Application,
  ApplicationRoutes,
  type InstanceIdentity,
  RouteserverClient,
  RouteserverWatchClient,
  RouteTable,
  type RoutingLogger,
  type WorkloadRef,
} from '@sandbox-routing/core';
import type { RouteserverConfig, SignadotIdentityConfig } from '../config';

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

/** What every route table of a process is made from: the routeserver's HTTP and gRPC clients, the timings. */
function tableOptions(config: RouteserverConfig, logger?: RoutingLogger) {
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
  return {
    client: new RouteserverClient({ url: config.url, requestTimeoutMs: config.requestTimeoutMs }),
    watch,
    refreshIntervalMs: config.refreshIntervalMs,
    unknownKeyRefetchIntervalMs: config.unknownKeyRefetchIntervalMs,
    firstSyncTimeoutMs: config.firstSyncTimeoutMs,
    logger,
  };
}

/**
 * A started route table for `baseline` from the routeserver settings: it watches the gRPC address when
 * one is set (HTTP polling as the fallback), else it polls.
 */
export function startRouteTable(
  config: RouteserverConfig,
  baseline: WorkloadRef,
  logger?: RoutingLogger,
): RouteTable {
  return new RouteTable({ ...tableOptions(config, logger), baseline }).start();
}

/**
 * The started route tables of a whole application for a process whose own workload is `own`: one
 * stream per namespace (one for an application in one namespace), holding every workload's rules.
 */
export function startApplicationRoutes(
  config: RouteserverConfig,
  application: Application,
  own: WorkloadRef,
  logger?: RoutingLogger,
): ApplicationRoutes {
  return new ApplicationRoutes(application, own, tableOptions(config, logger)).start();
}
