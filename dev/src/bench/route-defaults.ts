import {
  loadConfig,
  type RouteTable,
  routeserverSchema,
  startRouteTable,
  type WorkloadRef,
} from '@sandbox-routing/shared';

/** A started route table with the services' default settings, pointed at `url`: what the benchmarks measure. */
export function defaultRouteTable(url: string, baseline: WorkloadRef): RouteTable {
  const { routeserver } = loadConfig(
    { routeserver: routeserverSchema() },
    { env: { SIGNADOT_ROUTESERVER_URL: url } },
  );
  return startRouteTable(routeserver, baseline);
}
