/**
 * The route table in watch mode against the real stand-in (a separate process, so it can be killed and
 * restarted like the real routeserver): push updates, resync after a broken stream, HTTP fallback,
 * first-sync gating.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  decideOwnership,
  RouteserverClient,
  RouteserverWatchClient,
  RouteTable,
  type RouteTableOptions,
  type RoutingLogger,
} from '@sandbox-routing/core';
import { freePort, pollUntil } from '@sandbox-routing/testkit';
import type { InitialState } from '../../../routeserver/model';
import type { StandInProcess } from '../../../routeserver/standin-process';
import { BASELINE, INGRESS, standIn, started, stateFile, WORKER } from './stand-in-fixtures';

/** Log lines a table wrote, as `level message`. */
function recordingLogger(): RoutingLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_fields: Record<string, unknown>, message: string) => {
    lines.push(`${level} ${message}`);
  };
  return { lines, debug: () => {}, info: at('info'), warn: at('warn'), error: at('error') };
}

/** A watching table; `grpcAddress` defaults to the server's. Reconnect steps are short for the tests. */
function watchingTable(
  server: StandInProcess,
  overrides: Partial<RouteTableOptions> & { grpcAddress?: string } = {},
): RouteTable {
  const { grpcAddress, ...options } = overrides;
  return started(
    new RouteTable({
      client: new RouteserverClient({ url: server.url, requestTimeoutMs: 1000 }),
      watch: new RouteserverWatchClient({
        address: grpcAddress ?? server.grpcAddress,
        connectTimeoutMs: 1000,
        syncTimeoutMs: 10_000,
        reconnectBaseMs: 200,
        reconnectMaxMs: 2000,
      }),
      baseline: WORKER,
      refreshIntervalMs: 600_000,
      unknownKeyRefetchIntervalMs: 500,
      firstSyncTimeoutMs: 10_000,
      ...options,
    }),
  );
}

const sandboxOf = (table: RouteTable, key: string) => {
  const owner = table.peekOwner(key);
  return owner?.kind === 'sandbox' ? owner.sandboxName : owner?.kind;
};

describe('route table watching the routeserver stand-in over gRPC', () => {
  it('syncs from the stream and receives changes without HTTP requests; unknown keys ask nobody', async () => {
    const server = await standIn({
      stateFile: stateFile({ sandboxes: { alpha: { routingKey: 'k-alpha', forks: [WORKER] } } }),
    });
    const routes = watchingTable(server);
    assert.ok(await routes.waitForFirstSync());
    assert.equal(routes.stats().mode, 'watch');
    assert.equal(sandboxOf(routes, 'k-alpha'), 'alpha');

    await server.putSandbox('beta', 'k-beta', [WORKER, INGRESS]);
    await server.putSandbox('gamma', 'k-gamma', [INGRESS]); // not this baseline
    await pollUntil(() => sandboxOf(routes, 'k-beta') === 'beta', {
      description: 'the pushed rule',
      timeoutMs: 5000,
      intervalMs: 5,
    });
    await server.admin('DELETE', '/admin/sandboxes/alpha');
    await pollUntil(() => sandboxOf(routes, 'k-alpha') === 'baseline', {
      description: 'the pushed removal',
      timeoutMs: 5000,
      intervalMs: 5,
    });
    const owners = await Promise.all(
      Array.from({ length: 200 }, (_, i) => routes.ownerOf(i === 0 ? 'k-gamma' : `unknown-${i}`)),
    );
    assert.ok(owners.every((owner) => owner.kind === 'baseline'));
    const requests = await server.requests();
    assert.equal(requests.routingRules, 0, 'no HTTP request at all');
    assert.equal(requests.watchWorkloadRoutingRules, 1);
    assert.equal(requests.activeWatches, 1);
    const stats = routes.stats();
    assert.equal(stats.fetches, 0);
    assert.equal(stats.snapshotAgeMs, 0, 'a synced stream is never stale');
    assert.deepEqual(stats.changesApplied, { ADD: 2, REMOVE: 1, REPLACE: 0 });
  });

  it('after the stream breaks (stand-in restarted with other rules) the resync applies exactly the difference', async () => {
    const before: InitialState = {
      sandboxes: {
        keep: { routingKey: 'k-keep', forks: [WORKER] },
        gone: { routingKey: 'k-gone', forks: [WORKER] },
        first: { routingKey: 'k-first', forks: [WORKER] },
        second: { routingKey: 'k-second', forks: [WORKER] },
      },
      routeGroups: { team: { routingKey: 'k-team', sandboxes: ['second'] } },
    };
    const afterRestart: InitialState = {
      sandboxes: {
        keep: { routingKey: 'k-keep', forks: [WORKER] },
        first: { routingKey: 'k-first', forks: [WORKER] },
        second: { routingKey: 'k-second', forks: [WORKER] },
        fresh: { routingKey: 'k-fresh', forks: [WORKER] },
      },
      routeGroups: { team: { routingKey: 'k-team', sandboxes: ['first'] } },
    };
    const server = await standIn({ stateFile: stateFile(before) });
    const logger = recordingLogger();
    const routes = watchingTable(server, { logger });
    assert.ok(await routes.waitForFirstSync());
    const initial = routes.stats().changesApplied;
    assert.deepEqual(initial, { ADD: 5, REMOVE: 0, REPLACE: 0 });

    await server.stop();
    await pollUntil(() => !routes.stats().watchConnected && routes.stats().fetchErrors > 0, {
      description: 'the break, and the HTTP fallback failing too',
      timeoutMs: 10_000,
      intervalMs: 10,
    });
    // Meanwhile, the last good set answers.
    assert.equal(sandboxOf(routes, 'k-gone'), 'gone');
    assert.equal(sandboxOf(routes, 'k-team'), 'second');
    assert.ok((routes.stats().snapshotAgeMs ?? 0) >= 0);

    await server.restart({ stateFile: stateFile(afterRestart) });
    await pollUntil(() => routes.stats().watchConnected, {
      description: 'the watch to resync',
      timeoutMs: 15_000,
      intervalMs: 10,
    });
    const stats = routes.stats();
    assert.equal(stats.mode, 'watch');
    assert.equal(stats.fetchErrors, stats.fetches, 'the set came from the stream, not from a poll');
    assert.deepEqual(
      {
        ADD: stats.changesApplied.ADD - initial.ADD,
        REMOVE: stats.changesApplied.REMOVE - initial.REMOVE,
        REPLACE: stats.changesApplied.REPLACE - initial.REPLACE,
      },
      { ADD: 1, REMOVE: 1, REPLACE: 1 },
      'k-fresh added, k-gone removed, k-team moved from second to first',
    );
    for (const [key, owner] of Object.entries({
      'k-keep': 'keep',
      'k-gone': 'baseline',
      'k-first': 'first',
      'k-second': 'second',
      'k-fresh': 'fresh',
      'k-team': 'first',
    })) {
      assert.equal(sandboxOf(routes, key), owner, key);
    }
    assert.ok(routes.stats().watchReconnects >= 1);
    const warned = logger.lines.filter((line) => line.startsWith('warn'));
    assert.deepEqual(
      [...new Set(warned)],
      [
        'warn routing rules watch broke; reconnecting, answering from the last rules',
        'warn routing rules watch unavailable; falling back to HTTP polling while retrying the watch',
        'warn routing rules fetch failed; answering from the last rules fetched',
      ],
    );
    assert.equal(warned.length, 3, 'each said once during the outage');
    assert.ok(logger.lines.includes('info watching routing rules again; HTTP polling stopped'));
  });

  it('falls back to HTTP polling when the gRPC port is closed, says so once, and watches once it opens', async () => {
    const grpcPort = await freePort();
    const server = await standIn({ grpcPort: null });
    const logger = recordingLogger();
    const routes = watchingTable(server, {
      grpcAddress: `127.0.0.1:${grpcPort}`,
      refreshIntervalMs: 100,
      logger,
    });
    assert.ok(await routes.waitForFirstSync());
    assert.equal(routes.stats().mode, 'polling');
    await server.putSandbox('alpha', 'k-polled', [WORKER]);
    await pollUntil(() => sandboxOf(routes, 'k-polled') === 'alpha', {
      description: 'the polled rule',
      timeoutMs: 5000,
      intervalMs: 10,
    });
    await pollUntil(() => routes.stats().watchReconnects >= 3, {
      description: 'several watch retries',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    assert.deepEqual(
      logger.lines.filter((line) => line.startsWith('warn')),
      ['warn routing rules watch unavailable; falling back to HTTP polling while retrying the watch'],
      'said once, however many retries fail',
    );

    await server.restart({ grpcPort });
    await pollUntil(() => routes.stats().mode === 'watch', {
      description: 'the watch to take over',
      timeoutMs: 15_000,
      intervalMs: 10,
    });
    assert.equal(sandboxOf(routes, 'k-polled'), 'baseline', 'the restarted stand-in has no sandboxes');
    await server.admin('DELETE', '/admin/requests');
    assert.deepEqual(await routes.ownerOf('k-unknown-now'), { kind: 'baseline' });
    assert.equal(await server.routingRuleRequests(), 0, 'watching: an unknown key asks nobody');
    assert.ok(logger.lines.includes('info watching routing rules again; HTTP polling stopped'));
  });

  it('falls back to HTTP polling when the server does not implement the Routes API', async () => {
    const server = await standIn();
    await server.admin('PUT', '/admin/behaviour', { grpc: 'unimplemented' });
    await server.putSandbox('alpha', 'k-http', [WORKER]);
    const routes = watchingTable(server);
    assert.ok(await routes.waitForFirstSync());
    const stats = routes.stats();
    assert.equal(stats.mode, 'polling');
    assert.match(stats.lastError ?? '', /UNIMPLEMENTED/);
    assert.equal(sandboxOf(routes, 'k-http'), 'alpha');
  });

  it('decides nothing before SYNCED: a slow SYNCED holds decisions, which then see the full set', async () => {
    const server = await standIn({
      stateFile: stateFile({ sandboxes: { alpha: { routingKey: 'k-initial', forks: [WORKER] } } }),
    });
    await server.admin('PUT', '/admin/behaviour', { delayMs: 3000 });
    const routes = watchingTable(server);
    await pollUntil(async () => (await server.requests()).activeWatches === 1, {
      description: 'the stream to open (its ADDs sent, SYNCED pending)',
      timeoutMs: 5000,
      intervalMs: 10,
    });
    const decision = decideOwnership(routes, BASELINE, 'k-during-sync');
    // A sandbox created while SYNCED is pending reaches the table with the sync.
    await server.putSandbox('beta', 'k-during-sync', [WORKER]);
    assert.equal(routes.synced, false, 'ADDs alone do not make a sync');
    assert.equal(routes.peekOwner('k-initial'), undefined);
    assert.deepEqual(await decision, {
      owned: false,
      owner: { kind: 'sandbox', sandboxName: 'beta' },
      reason: 'rule',
    });
    assert.equal(routes.stats().mode, 'watch');
    assert.equal(routes.stats().fetches, 0, 'a slow SYNCED is not a failure');
  });

  for (const mode of ['watch', 'polling'] as const) {
    it(`${mode}: a sandbox created 50 ms before its first event owns the event (20 rounds)`, async () => {
      const server = await standIn();
      const routes =
        mode === 'watch'
          ? watchingTable(server)
          : watchingTable(server, { watch: undefined, refreshIntervalMs: 2000 });
      assert.ok(await routes.waitForFirstSync());
      for (let round = 0; round < 20; round++) {
        const sandbox = `pr-${mode}-${round}`;
        const key = `k${mode}${round}`;
        await server.putSandbox(sandbox, key, [WORKER]);
        await delay(50); // the scenario: the first event arrives 50 ms after the sandbox (not a sync point)
        const asSandbox = await decideOwnership(routes, { baseline: WORKER, sandboxName: sandbox }, key);
        const asBaseline = await decideOwnership(routes, BASELINE, key);
        assert.equal(asSandbox.owned, true, `${key}: the sandbox owns it`);
        assert.equal(asBaseline.owned, false, `${key}: the baseline does not`);
      }
      assert.equal(routes.stats().mode, mode);
    });
  }
});
