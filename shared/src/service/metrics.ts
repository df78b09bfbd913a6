import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { RouteTable } from '../routes';
import type { RoutingDecisionEvent } from '../temporal/decisions';

/** A Prometheus registry with process metrics and the given default labels (service, instance). */
export function createRegistry(labels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Exposes route tables' ages and counters, read at scrape time, labelled by table name. */
export function registerRouteTableMetrics(
  registry: Registry,
  tables: Readonly<Record<string, RouteTable>>,
): void {
  const gauge = (name: string, help: string, value: (stats: ReturnType<RouteTable['stats']>) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['table'],
      registers: [registry],
      collect() {
        for (const [table, routes] of Object.entries(tables)) this.set({ table }, value(routes.stats()));
      },
    });
  gauge(
    'sandbox_routing_route_table_age_seconds',
    'Age of the last successfully fetched routing rules (-1 before the first sync).',
    (s) => (s.snapshotAgeMs === undefined ? -1 : s.snapshotAgeMs / 1000),
  );
  gauge('sandbox_routing_route_table_rules', 'Routing rules in the current snapshot.', (s) => s.rules);
  gauge('sandbox_routing_routeserver_fetches_total', 'Routeserver requests made.', (s) => s.fetches);
  gauge(
    'sandbox_routing_routeserver_fetch_errors_total',
    'Routeserver requests that failed.',
    (s) => s.fetchErrors,
  );
  gauge(
    'sandbox_routing_unknown_key_refetches_total',
    'Routeserver requests triggered by an unknown routing key.',
    (s) => s.unknownKeyRefetches,
  );
}

/** Counts routing decisions of the Temporal interceptors by component, action and owner. */
export function routingDecisionCounter(registry: Registry): (event: RoutingDecisionEvent) => void {
  const counter = new Counter({
    name: 'sandbox_routing_temporal_decisions_total',
    help: 'Routing decisions of the Temporal interceptors.',
    labelNames: ['component', 'action', 'owner'],
    registers: [registry],
  });
  return (event) => counter.inc({ component: event.component, action: event.action, owner: event.owner });
}
