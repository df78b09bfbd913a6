import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideOwnership,
  type InstanceIdentity,
  RouteserverClient,
  RouteTable,
  RouteTableNotSyncedError,
  type RouteTableOptions,
} from '@sandbox-routing/core';
import { pollUntil } from '@sandbox-routing/testkit';
import { BASELINE, INGRESS, standIn, started, stateFile, WORKER } from './stand-in-fixtures';

const SANDBOX_A: InstanceIdentity = { baseline: WORKER, sandboxName: 'sandbox-a' };

/** A polling table (refresh every 200 ms), stopped after the test. */
function table(url: string, overrides: Partial<RouteTableOptions> = {}, timeoutMs = 1000): RouteTable {
  return started(
    new RouteTable({
      client: new RouteserverClient({ url, requestTimeoutMs: timeoutMs }),
      baseline: WORKER,
      refreshIntervalMs: 200,
      unknownKeyRefetchIntervalMs: 500,
      firstSyncTimeoutMs: 5000,
      ...overrides,
    }),
  );
}

describe('route table against the routeserver stand-in', () => {
  it('picks up a sandbox created after the first sync on the next refresh', async () => {
    const server = await standIn();
    const routes = table(server.url);
    assert.ok(await routes.waitForFirstSync());
    assert.deepEqual(routes.peekOwner('k-new-sandbox'), { kind: 'baseline' });
    await server.putSandbox('sandbox-a', 'k-new-sandbox', [WORKER]);
    await pollUntil(() => routes.peekOwner('k-new-sandbox')?.kind === 'sandbox', {
      description: 'the periodic refresh to see the sandbox',
      timeoutMs: 5000,
      intervalMs: 20,
    });
    assert.deepEqual(routes.peekOwner('k-new-sandbox'), { kind: 'sandbox', sandboxName: 'sandbox-a' });
    // Rules for other workloads never route this baseline.
    await server.putSandbox('sandbox-b', 'k-ingress-only', [INGRESS]);
    await routes.refresh();
    assert.deepEqual(await routes.ownerOf('k-ingress-only'), { kind: 'baseline' });
  });

  it('never answers an unknown key from a snapshot older than the question (polling)', async () => {
    const server = await standIn();
    // A wide rate-limit window and no periodic refresh: the sandbox appears inside the window.
    const routes = table(server.url, { refreshIntervalMs: 600_000, unknownKeyRefetchIntervalMs: 1500 });
    assert.ok(await routes.waitForFirstSync());
    await server.putSandbox('sandbox-a', 'k-created-in-window', [WORKER]);
    assert.deepEqual(await routes.ownerOf('k-created-in-window'), {
      kind: 'sandbox',
      sandboxName: 'sandbox-a',
    });
  });

  it('answers empty responses with and without routingRules as "no rules"', async () => {
    const server = await standIn();
    const routes = table(server.url, { refreshIntervalMs: 60_000 });
    assert.ok(await routes.waitForFirstSync(), 'synced on {}');
    assert.equal(routes.stats().rules, 0);
    await server.admin('PUT', '/admin/behaviour', { emptyRoutingRules: 'empty-array' });
    await routes.refresh();
    assert.equal(routes.stats().fetchErrors, 0);
    assert.deepEqual(await routes.ownerOf('anything'), { kind: 'baseline' });
  });

  it('rate-limits unknown-key re-fetches under a flood; concurrent lookups share one fetch', async () => {
    const server = await standIn();
    const intervalMs = 300;
    // No periodic refresh during the test: every request counted below is an on-demand one.
    const routes = table(server.url, { refreshIntervalMs: 600_000, unknownKeyRefetchIntervalMs: intervalMs });
    assert.ok(await routes.waitForFirstSync());
    await server.admin('DELETE', '/admin/requests');
    const burst = Array.from({ length: 200 }, (_, i) => `unknown-${i}`);
    const owners = await Promise.all(burst.map((key) => routes.ownerOf(key)));
    assert.ok(owners.every((o) => o.kind === 'baseline'));
    assert.equal(await server.routingRuleRequests(), 1, '200 concurrent unknown keys share one fetch');

    // 20 callers looking up unknown keys back to back for 1.5 s.
    await server.admin('DELETE', '/admin/requests');
    const started = Date.now();
    let lookups = 0;
    await Promise.all(
      Array.from({ length: 20 }, async (_, caller) => {
        while (Date.now() - started < 1500) await routes.ownerOf(`flood-${caller}-${lookups++}`);
      }),
    );
    const elapsed = Date.now() - started;
    const requests = await server.routingRuleRequests();
    assert.ok(
      requests <= Math.ceil(elapsed / intervalMs) + 1,
      `${requests} fetches in ${elapsed} ms: more than one per ${intervalMs} ms`,
    );
    assert.ok(
      lookups >= 20 * requests - 20,
      `${lookups} lookups, ${requests} fetches: lookups share fetches`,
    );
    assert.equal(routes.stats().unknownKeyRefetches, requests + 1);
  });

  it('finds a sandbox created just before its first lookup, every time (polling, 20 rounds)', async () => {
    const server = await standIn();
    const routes = table(server.url, { refreshIntervalMs: 2000, unknownKeyRefetchIntervalMs: 500 });
    assert.ok(await routes.waitForFirstSync());
    for (let round = 0; round < 20; round++) {
      const key = `k-fresh-${round}`;
      await server.putSandbox(`fresh-${round}`, key, [WORKER]);
      assert.deepEqual(await routes.ownerOf(key), { kind: 'sandbox', sandboxName: `fresh-${round}` }, key);
    }
  });

  it('serves the last snapshot while the routeserver is down, and recovers when it is back', async () => {
    const server = await standIn({
      stateFile: stateFile({ sandboxes: { 'sandbox-a': { routingKey: 'k-outage', forks: [WORKER] } } }),
    });
    const routes = table(server.url, {}, 300);
    assert.ok(await routes.waitForFirstSync());
    assert.deepEqual(routes.peekOwner('k-outage'), { kind: 'sandbox', sandboxName: 'sandbox-a' });

    await server.stop();
    await pollUntil(() => routes.stats().fetchErrors >= 2, {
      description: 'failed refreshes',
      timeoutMs: 5000,
    });
    const ageDuringOutage = routes.stats().snapshotAgeMs ?? 0;
    await pollUntil(() => (routes.stats().snapshotAgeMs ?? 0) > ageDuringOutage + 400, {
      description: 'the snapshot age to keep growing',
      timeoutMs: 5000,
    });
    assert.deepEqual(await routes.ownerOf('k-outage'), { kind: 'sandbox', sandboxName: 'sandbox-a' });
    assert.match(routes.stats().lastError ?? '', /unreachable/);

    await server.restart();
    await pollUntil(() => (routes.stats().snapshotAgeMs ?? Infinity) < 400, {
      description: 'a successful refresh after the restart',
      timeoutMs: 5000,
    });
    assert.deepEqual(routes.peekOwner('k-outage'), { kind: 'sandbox', sandboxName: 'sandbox-a' });
  });

  it('times out a slow response and keeps the snapshot', async () => {
    const server = await standIn();
    await server.putSandbox('sandbox-a', 'k-slow', [WORKER]);
    const routes = table(server.url, { refreshIntervalMs: 600_000 }, 300);
    assert.ok(await routes.waitForFirstSync());
    await server.admin('PUT', '/admin/behaviour', { delayMs: 3000 });
    await routes.refresh();
    assert.equal(routes.stats().fetchErrors, 1);
    assert.match(routes.stats().lastError ?? '', /within 300 ms/);
    assert.deepEqual(routes.peekOwner('k-slow'), { kind: 'sandbox', sandboxName: 'sandbox-a' });
  });

  it('counts malformed JSON and server errors as failed fetches and keeps the snapshot', async () => {
    const server = await standIn();
    await server.putSandbox('sandbox-a', 'k-malformed', [WORKER]);
    const routes = table(server.url, { refreshIntervalMs: 600_000 });
    assert.ok(await routes.waitForFirstSync());
    await server.admin('PUT', '/admin/behaviour', { respondWith: 'malformed-json' });
    await routes.refresh();
    assert.equal(routes.stats().fetchErrors, 1);
    assert.match(routes.stats().lastError ?? '', /malformed JSON/);
    await server.admin('PUT', '/admin/behaviour', { respondWith: 'http-500' });
    await routes.refresh();
    assert.equal(routes.stats().fetchErrors, 2);
    assert.match(routes.stats().lastError ?? '', /500/);
    assert.deepEqual(routes.peekOwner('k-malformed'), { kind: 'sandbox', sandboxName: 'sandbox-a' });
  });

  it('maps a RouteGroup key to its member sandbox that forks this workload', async () => {
    const server = await standIn();
    await server.putSandbox('sandbox-a', 'k-own', [WORKER, INGRESS]);
    await server.putSandbox('sandbox-b', 'k-other', [INGRESS]);
    await server.admin('PUT', '/admin/routegroups/checkout', {
      routingKey: 'k-group',
      sandboxes: ['sandbox-a', 'sandbox-b'],
    });
    const routes = table(server.url);
    assert.ok(await routes.waitForFirstSync());
    assert.deepEqual(await decideOwnership(routes, SANDBOX_A, 'k-group'), {
      owned: true,
      owner: { kind: 'sandbox', sandboxName: 'sandbox-a' },
      reason: 'rule',
    });
    assert.equal((await decideOwnership(routes, BASELINE, 'k-group')).owned, false);
    assert.equal(
      (await decideOwnership(routes, BASELINE, 'k-other')).owned,
      true,
      'sandbox-b does not fork the worker',
    );
    assert.equal((await decideOwnership(routes, SANDBOX_A, 'k-other')).owned, false);
    assert.equal((await decideOwnership(routes, SANDBOX_A, undefined)).owned, false, 'no key: baseline only');
    assert.equal((await decideOwnership(routes, BASELINE, undefined)).owned, true);
  });

  it('before the first sync: waits (bounded), applies the never-synced policy, then syncs late', async () => {
    const placeholder = await standIn();
    const port = Number(new URL(placeholder.url).port);
    await placeholder.stop(); // a free port nobody listens on, for now
    const routes = table(`http://127.0.0.1:${port}`, { firstSyncTimeoutMs: 300 }, 200);
    await assert.rejects(routes.ownerOf('k-late'), RouteTableNotSyncedError);
    await assert.rejects(
      decideOwnership(routes, BASELINE, 'k-late'),
      RouteTableNotSyncedError,
      'baseline waits',
    );
    assert.deepEqual(await decideOwnership(routes, SANDBOX_A, 'k-late'), {
      owned: false,
      owner: undefined,
      reason: 'never-synced',
    });
    assert.equal((await decideOwnership(routes, BASELINE, 'k-late', 'assume-no-rules')).owned, true);
    assert.equal((await decideOwnership(routes, BASELINE, 'k-late', 'own-nothing')).owned, false);
    assert.equal(
      (await decideOwnership(routes, BASELINE, undefined)).owned,
      true,
      'an empty key needs no sync',
    );

    const lateState = stateFile({ sandboxes: { 'sandbox-a': { routingKey: 'k-late', forks: [WORKER] } } });
    const patient = table(`http://127.0.0.1:${port}`, { firstSyncTimeoutMs: 20_000 }, 200);
    const pending = decideOwnership(patient, SANDBOX_A, 'k-late', 'wait');
    await standIn({ port, stateFile: lateState });
    assert.equal((await pending).owned, true, 'a decision waiting for the first sync gets the synced answer');
  });

  it('stops cleanly: no refresh after stop', async () => {
    const server = await standIn();
    const routes = table(server.url);
    assert.ok(await routes.waitForFirstSync());
    await routes.stop();
    const fetches = routes.stats().fetches;
    await routes.refresh();
    assert.equal(routes.stats().fetches, fetches);
  });
});
