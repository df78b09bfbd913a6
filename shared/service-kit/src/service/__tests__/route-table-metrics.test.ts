import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RouteTable } from '@sandbox-routing/core';
import { Registry } from 'prom-client';
import { registerRouteTableMetrics } from '../metrics';

const WORKER = { kind: 'Deployment', namespace: 'ns', name: 'worker' };

describe('route table metrics', () => {
  const table = new RouteTable({
    client: {
      getRoutingRules: async () => [
        { routingKey: 'k1', baseline: WORKER, destinationSandbox: { name: 'alpha' } },
        { routingKey: 'k2', baseline: WORKER, destinationSandbox: { name: 'beta' } },
      ],
    },
    baseline: WORKER,
    refreshIntervalMs: 60_000,
    unknownKeyRefetchIntervalMs: 1,
    firstSyncTimeoutMs: 5000,
  }).start();
  after(() => table.stop());

  it('exposes mode, staleness and counters, with counters typed as counters and stable across scrapes', async () => {
    assert.ok(await table.waitForFirstSync());
    await table.ownerOf('unknown'); // one unknown-key refetch
    const registry = new Registry();
    registerRouteTableMetrics(registry, { worker: table });
    await registry.metrics(); // a first scrape must not add to the second
    const text = await registry.metrics();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      assert.ok(line, `${series} is exported:\n${text}`);
      return Number(line.slice(series.length + 1));
    };
    assert.match(text, /# TYPE sandbox_routing_routeserver_fetches_total counter/);
    assert.match(text, /# TYPE sandbox_routing_route_table_changes_total counter/);
    assert.match(text, /# TYPE sandbox_routing_route_table_watch_reconnects_total counter/);
    assert.match(text, /# TYPE sandbox_routing_route_table_age_seconds gauge/);
    assert.equal(value('sandbox_routing_route_table_mode{table="worker",mode="polling"}'), 1);
    assert.equal(value('sandbox_routing_route_table_mode{table="worker",mode="watch"}'), 0);
    assert.equal(value('sandbox_routing_routeserver_fetches_total{table="worker"}'), 2);
    assert.equal(value('sandbox_routing_unknown_key_refetches_total{table="worker"}'), 1);
    assert.equal(value('sandbox_routing_route_table_changes_total{table="worker",op="add"}'), 2);
    assert.equal(value('sandbox_routing_route_table_changes_total{table="worker",op="remove"}'), 0);
    assert.equal(value('sandbox_routing_route_table_rules{table="worker"}'), 2);
    assert.equal(value('sandbox_routing_route_table_watch_connected{table="worker"}'), 0);
    assert.ok(value('sandbox_routing_route_table_age_seconds{table="worker"}') >= 0);
  });
});
