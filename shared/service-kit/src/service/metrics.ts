import type { RoutingDecisionEvent, WorkloadRoutes } from '@sandbox-routing/core';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** A Prometheus registry with process metrics and the given default labels (service, instance). */
export function createRegistry(labels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * A Prometheus counter (`_total`) whose value a component keeps itself (a running total it reports
 * in its stats), copied at each scrape: reset then increased, since a counter cannot be set.
 */
export function mirroredCounter(
  registry: Registry,
  name: string,
  help: string,
  total: () => number,
): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(total());
    },
  });
}

type Stats = ReturnType<WorkloadRoutes['stats']>;

/**
 * Exposes route tables' mode, staleness and counters, read at scrape time, labelled by table name.
 * Counters are Prometheus counters (`_total`); units are in the names.
 */
export function registerRouteTableMetrics(
  registry: Registry,
  tables: Readonly<Record<string, WorkloadRoutes>>,
): void {
  const each = (visit: (table: string, stats: Stats) => void) => {
    for (const [table, routes] of Object.entries(tables)) visit(table, routes.stats());
  };
  const gauge = (name: string, help: string, value: (stats: Stats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['table'],
      registers: [registry],
      collect() {
        each((table, stats) => this.set({ table }, value(stats)));
      },
    });
  // The table keeps the totals; a scrape copies them (reset + inc, since a counter cannot be set).
  const counter = (name: string, help: string, value: (stats: Stats) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['table'],
      registers: [registry],
      collect() {
        this.reset();
        each((table, stats) => this.inc({ table }, value(stats)));
      },
    });
  gauge(
    'sandbox_routing_route_table_age_seconds',
    'Staleness of the routing rules: 0 while a watch stream is synced, else seconds since they were last ' +
      'known current (last successful fetch, or the stream break); -1 before the first sync.',
    (s) => (s.snapshotAgeMs === undefined ? -1 : s.snapshotAgeMs / 1000),
  );
  gauge('sandbox_routing_route_table_rules', 'Routing rules in the current set.', (s) => s.rules);
  new Gauge({
    name: 'sandbox_routing_route_table_mode',
    help: 'How the route table gets its rules: 1 for the current mode (watch or polling), 0 for the other.',
    labelNames: ['table', 'mode'],
    registers: [registry],
    collect() {
      each((table, stats) => {
        for (const mode of ['watch', 'polling'] as const)
          this.set({ table, mode }, stats.mode === mode ? 1 : 0);
      });
    },
  });
  gauge('sandbox_routing_route_table_watch_connected', '1 while a watch stream is synced, else 0.', (s) =>
    s.watchConnected ? 1 : 0,
  );
  counter(
    'sandbox_routing_route_table_watch_reconnects_total',
    'Watch attempts started after a stream ended or an attempt failed.',
    (s) => s.watchReconnects,
  );
  new Counter({
    name: 'sandbox_routing_route_table_changes_total',
    help: 'Changes applied to the routing rules (watch ops, resync differences, polled differences), by op.',
    labelNames: ['table', 'op'],
    registers: [registry],
    collect() {
      this.reset();
      each((table, stats) => {
        for (const [op, count] of Object.entries(stats.changesApplied)) {
          this.inc({ table, op: op.toLowerCase() }, count);
        }
      });
    },
  });
  counter('sandbox_routing_routeserver_fetches_total', 'Routeserver HTTP requests made.', (s) => s.fetches);
  counter(
    'sandbox_routing_routeserver_fetch_errors_total',
    'Routeserver HTTP requests that failed.',
    (s) => s.fetchErrors,
  );
  counter(
    'sandbox_routing_unknown_key_refetches_total',
    'Routeserver HTTP requests triggered by an unknown routing key (polling only).',
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
