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

/** Exposes a route table's age and counters, read at scrape time. */
export function registerRouteTableMetrics(registry: Registry, table: RouteTable, name = 'routes'): void {
  const labels = { table: name };
  new Gauge({
    name: 'sandbox_routing_route_table_age_seconds',
    help: 'Age of the last successfully fetched routing rules (-1 before the first sync).',
    labelNames: ['table'],
    registers: [registry],
    collect() {
      const age = table.stats().snapshotAgeMs;
      this.set(labels, age === undefined ? -1 : age / 1000);
    },
  });
  new Gauge({
    name: 'sandbox_routing_route_table_rules',
    help: 'Routing rules in the current snapshot.',
    labelNames: ['table'],
    registers: [registry],
    collect() {
      this.set(labels, table.stats().rules);
    },
  });
  for (const [metric, key, help] of [
    ['sandbox_routing_routeserver_fetches', 'fetches', 'Routeserver requests made.'],
    ['sandbox_routing_routeserver_fetch_errors', 'fetchErrors', 'Routeserver requests that failed.'],
    ['sandbox_routing_unknown_key_refetches', 'unknownKeyRefetches', 'Requests triggered by an unknown key.'],
  ] as const) {
    new Gauge({
      name: `${metric}_total`,
      help,
      labelNames: ['table'],
      registers: [registry],
      collect() {
        this.set(labels, table.stats()[key]);
      },
    });
  }
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
