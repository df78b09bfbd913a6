import type { RouteTable, RouteTableMode, WorkloadRef } from '@sandbox-routing/core';
import { loadConfig, routeserverSchema, startRouteTable } from '@sandbox-routing/service-kit';

/** Where a benchmark's route tables find the stand-in. */
export interface StandInAddresses {
  url: string;
  grpcAddress?: string;
}

/**
 * A started route table with the services' default settings, pointed at the stand-in: what the
 * benchmarks measure. `watch` (the default when a gRPC address is known) or `polling` (HTTP only).
 */
export function defaultRouteTable(
  standIn: StandInAddresses,
  baseline: WorkloadRef,
  mode: RouteTableMode = standIn.grpcAddress ? 'watch' : 'polling',
): RouteTable {
  const { routeserver } = loadConfig(
    { routeserver: routeserverSchema() },
    {
      env: {
        SIGNADOT_ROUTESERVER_URL: standIn.url,
        SIGNADOT_ROUTESERVER_GRPC_ADDRESS: mode === 'watch' ? (standIn.grpcAddress ?? '') : '',
      },
    },
  );
  return startRouteTable(routeserver, baseline);
}

/** The p-th percentile (nearest rank) of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}
