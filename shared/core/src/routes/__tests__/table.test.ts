/**
 * The route table's logic with scripted sources (no servers): watch mode, resync, fallback and back,
 * and the polling rule that an unknown key waits for a fetch newer than the question. The same
 * behaviour against the real stand-in is tested in dev/src/library/routes.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import type { RoutingRulesFilter, RoutingRulesSource } from '../client';
import { RouteserverUnavailableError, RouteserverWatchError } from '../errors';
import type { RoutingLogger } from '../logger';
import { RouteTable, type RouteTableOptions } from '../table';
import type { RoutingRule } from '../types';
import type { RoutingRulesWatch, RoutingRulesWatchListener, RoutingRulesWatchSource } from '../watch';

const WORKER = { kind: 'Deployment', namespace: 'ns', name: 'worker' };
const INGRESS = { kind: 'Deployment', namespace: 'ns', name: 'ingress' };

const rule = (routingKey: string, sandbox: string, baseline = WORKER): RoutingRule => ({
  routingKey,
  baseline,
  destinationSandbox: { name: sandbox },
});

/** A watch whose events the test sends. */
class ScriptedWatch implements RoutingRulesWatchSource, RoutingRulesWatch {
  readonly address = 'scripted:7777';
  listener: RoutingRulesWatchListener | undefined;
  filter: RoutingRulesFilter | undefined;
  stopped = false;

  watch(filter: RoutingRulesFilter, listener: RoutingRulesWatchListener): RoutingRulesWatch {
    this.filter = filter;
    this.listener = listener;
    return this;
  }

  stop(): void {
    this.stopped = true;
  }

  synced(rules: RoutingRule[]): void {
    this.listener?.synced(rules);
  }

  ended(synced: boolean, code = 14): void {
    const error = new RouteserverWatchError(`scripted end (code ${code})`, code);
    this.listener?.ended({ error, synced, retryInMs: 1000 });
  }
}

/** An HTTP source whose answers the test releases one by one. */
class ScriptedClient implements RoutingRulesSource {
  readonly pending: Array<{ resolve: (rules: RoutingRule[]) => void; reject: (error: Error) => void }> = [];
  calls = 0;
  private waiters: Array<{ count: number; wake: () => void }> = [];

  getRoutingRules(): Promise<RoutingRule[]> {
    this.calls++;
    for (const waiter of this.waiters.filter((w) => this.calls >= w.count)) waiter.wake();
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  /** Resolves when the client has been called `count` times in all. */
  called(count: number): Promise<void> {
    if (this.calls >= count) return Promise.resolve();
    return new Promise((wake) => this.waiters.push({ count, wake }));
  }

  answer(rules: RoutingRule[]): void {
    const next = this.pending.shift();
    assert.ok(next, 'a request is pending');
    next.resolve(rules);
  }

  fail(): void {
    this.pending.shift()?.reject(new RouteserverUnavailableError('scripted failure'));
  }
}

function recordingLogger(): RoutingLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_fields: Record<string, unknown>, message: string) => {
    lines.push(`${level} ${message}`);
  };
  return { lines, debug: () => {}, info: at('info'), warn: at('warn'), error: at('error') };
}

const tables: RouteTable[] = [];
function table(options: Partial<RouteTableOptions> & Pick<RouteTableOptions, 'client'>): RouteTable {
  const created = new RouteTable({
    baseline: WORKER,
    refreshIntervalMs: 60_000,
    unknownKeyRefetchIntervalMs: 20,
    firstSyncTimeoutMs: 5000,
    ...options,
  });
  tables.push(created);
  return created.start();
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

afterEach(async () => {
  mock.timers.reset();
  await Promise.all(tables.splice(0).map((t) => t.stop()));
});

describe('RouteTable in watch mode', () => {
  it('watches its baseline, answers only after SYNCED, and never asks HTTP', async () => {
    const client = new ScriptedClient();
    const watch = new ScriptedWatch();
    const routes = table({ client, watch });
    assert.deepEqual(watch.filter, {
      baselineKind: 'Deployment',
      baselineNamespace: 'ns',
      baselineName: 'worker',
    });
    assert.equal(routes.peekOwner('k1'), undefined);
    const pending = routes.ownerOf('k1');
    watch.synced([rule('k1', 'alpha'), rule('k2', 'beta'), rule('k3', 'gamma', INGRESS)]);
    assert.deepEqual(await pending, { kind: 'sandbox', sandboxName: 'alpha' });
    assert.deepEqual(await routes.ownerOf('k3'), { kind: 'baseline' }, 'a rule of another workload');
    assert.deepEqual(await routes.ownerOf('never-seen'), { kind: 'baseline' });
    await routes.refresh();
    assert.equal(client.calls, 0);
    assert.deepEqual(routes.stats().changesApplied, { ADD: 2, REMOVE: 0, REPLACE: 0 });
    assert.equal(routes.stats().mode, 'watch');
    assert.equal(routes.stats().snapshotAgeMs, 0);
  });

  it('applies ADD, REPLACE and REMOVE, counting only real changes', async () => {
    const watch = new ScriptedWatch();
    const routes = table({ client: new ScriptedClient(), watch });
    watch.synced([rule('k1', 'alpha')]);
    const listener = watch.listener as RoutingRulesWatchListener;
    listener.change('ADD', rule('k2', 'beta'));
    listener.change('REPLACE', rule('k1', 'gamma'));
    listener.change('ADD', rule('k2', 'beta')); // the same rule again: no change
    listener.change('ADD', rule('k9', 'other', INGRESS)); // another workload: ignored
    listener.change('REMOVE', rule('k-absent', 'beta'));
    assert.deepEqual(routes.peekOwner('k1'), { kind: 'sandbox', sandboxName: 'gamma' });
    listener.change('REMOVE', rule('k2', 'beta'));
    assert.deepEqual(routes.peekOwner('k2'), { kind: 'baseline' });
    assert.deepEqual(routes.stats().changesApplied, { ADD: 2, REMOVE: 1, REPLACE: 1 });
    assert.equal(routes.stats().rules, 1);
  });

  it('keeps the last set while reconnecting, then applies exactly the difference of the resync', async () => {
    const client = new ScriptedClient();
    const watch = new ScriptedWatch();
    const routes = table({ client, watch });
    watch.synced([rule('keep', 'a'), rule('gone', 'b'), rule('moved', 'c')]);
    watch.ended(true);
    assert.equal(routes.stats().watchConnected, false);
    assert.equal(routes.stats().mode, 'watch', 'a broken stream is not a fallback');
    assert.ok((routes.stats().snapshotAgeMs ?? -1) >= 0);
    assert.deepEqual(await routes.ownerOf('gone'), { kind: 'sandbox', sandboxName: 'b' });
    assert.deepEqual(await routes.ownerOf('fresh'), { kind: 'baseline' });
    assert.equal(client.calls, 0, 'reconnecting: still no HTTP');
    watch.synced([rule('keep', 'a'), rule('moved', 'd'), rule('fresh', 'e')]);
    assert.deepEqual(routes.stats().changesApplied, { ADD: 4, REMOVE: 1, REPLACE: 1 });
    assert.deepEqual(await routes.ownerOf('gone'), { kind: 'baseline' });
    assert.deepEqual(await routes.ownerOf('moved'), { kind: 'sandbox', sandboxName: 'd' });
    assert.equal(routes.stats().watchReconnects, 1);
    assert.equal(routes.stats().snapshotAgeMs, 0);
  });

  it('falls back to polling when the watch cannot be established, says so once, and stops polling when it syncs', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    const client = new ScriptedClient();
    const watch = new ScriptedWatch();
    const logger = recordingLogger();
    const routes = table({ client, watch, logger, refreshIntervalMs: 1000 });
    watch.ended(false, 14);
    assert.equal(routes.stats().mode, 'polling');
    await client.called(1);
    client.answer([rule('k1', 'alpha')]);
    assert.ok(await routes.waitForFirstSync());
    assert.deepEqual(await routes.ownerOf('k1'), { kind: 'sandbox', sandboxName: 'alpha' });
    mock.timers.tick(1000);
    await client.called(2);
    client.answer([rule('k1', 'alpha')]);
    watch.ended(false, 12);
    watch.ended(false, 14);
    assert.deepEqual(
      logger.lines.filter((line) => line.startsWith('warn')),
      ['warn routing rules watch unavailable; falling back to HTTP polling while retrying the watch'],
    );

    watch.synced([rule('k1', 'alpha'), rule('k2', 'beta')]);
    assert.equal(routes.stats().mode, 'watch');
    assert.ok(logger.lines.includes('info watching routing rules again; HTTP polling stopped'));
    await settle();
    const calls = client.calls;
    mock.timers.tick(10_000);
    await routes.refresh();
    assert.equal(client.calls, calls, 'no polling once the watch is back');
    assert.deepEqual(await routes.ownerOf('k2'), { kind: 'sandbox', sandboxName: 'beta' });
  });

  it('drops a poll answer that arrives after the watch synced (it may be older)', async () => {
    const client = new ScriptedClient();
    const watch = new ScriptedWatch();
    const routes = table({ client, watch });
    watch.ended(false);
    await client.called(1);
    watch.synced([rule('k1', 'new-owner')]);
    client.answer([rule('k1', 'old-owner')]);
    await settle();
    assert.deepEqual(routes.peekOwner('k1'), { kind: 'sandbox', sandboxName: 'new-owner' });
  });
});

/** A polling table past its first fetch (answered with `rules`), and the client it polls. */
async function syncedPollingTable(unknownKeyRefetchIntervalMs: number, rules: RoutingRule[] = []) {
  const client = new ScriptedClient();
  const routes = table({ client, unknownKeyRefetchIntervalMs });
  client.answer(rules);
  assert.ok(await routes.waitForFirstSync());
  return { client, routes };
}

describe('RouteTable in polling mode', () => {
  it('an unknown key waits for a fetch that started after the question, not the one in flight', async () => {
    const { client, routes } = await syncedPollingTable(10);
    // A refresh in flight when the question comes: the sandbox may have been created after it started.
    void routes.refresh();
    await client.called(2);
    let answer: unknown;
    const pending = routes.ownerOf('k-new').then((owner) => {
      answer = owner;
    });
    client.answer([]);
    await settle();
    assert.equal(answer, undefined, 'not answered from a fetch older than the question');
    await client.called(3);
    client.answer([rule('k-new', 'alpha')]);
    await pending;
    assert.deepEqual(answer, { kind: 'sandbox', sandboxName: 'alpha' });
    assert.equal(routes.stats().unknownKeyRefetches, 1);
  });

  it('takes a sandbox found by the fetch in flight at once', async () => {
    const { client, routes } = await syncedPollingTable(60_000);
    void routes.refresh();
    await client.called(2);
    const pending = routes.ownerOf('k-new');
    client.answer([rule('k-new', 'alpha')]);
    assert.deepEqual(await pending, { kind: 'sandbox', sandboxName: 'alpha' });
    assert.equal(client.calls, 2);
  });

  it('a failed fetch answers from the last good set', async () => {
    const { client, routes } = await syncedPollingTable(5, [rule('k1', 'alpha')]);
    const pending = routes.ownerOf('k-unknown');
    await client.called(2);
    client.fail();
    assert.deepEqual(await pending, { kind: 'baseline' });
    assert.deepEqual(await routes.ownerOf('k1'), { kind: 'sandbox', sandboxName: 'alpha' });
    assert.equal(routes.stats().fetchErrors, 1);
  });

  it('says there are no rules yet when the first fetches fail, and keeps the last rules only once it had some', async () => {
    const client = new ScriptedClient();
    const watch = new ScriptedWatch();
    const logger = recordingLogger();
    const routes = table({ client, watch, logger, refreshIntervalMs: 1000 });
    watch.ended(false, 14);
    await client.called(1);
    client.fail();
    await settle();
    const fetchWarning = () => logger.lines.filter((line) => line.startsWith('warn routing rules fetch'));
    assert.deepEqual(fetchWarning(), [
      'warn routing rules fetch failed; no rules yet (never synced): decisions wait for the first sync, ' +
        'up to firstSyncTimeoutMs, then follow the never-synced policy',
    ]);
    assert.doesNotMatch(logger.lines.join('\n'), /last snapshot|last rules/);

    const next = routes.refresh();
    await client.called(2);
    client.answer([rule('k1', 'alpha')]);
    await next;
    assert.ok(routes.synced);
    const again = routes.refresh();
    await client.called(3);
    client.fail();
    await again;
    assert.equal(fetchWarning()[1], 'warn routing rules fetch failed; answering from the last rules fetched');
  });

  it('stop() releases keys waiting for a refetch', async () => {
    const { client, routes } = await syncedPollingTable(60_000);
    const pending = routes.ownerOf('k-waiting');
    await routes.stop();
    assert.deepEqual(await pending, { kind: 'baseline' });
    assert.equal(client.calls, 1);
  });
});

describe('RouteTable for several workloads', () => {
  const PAYMENTS = { kind: 'Deployment', namespace: 'ns', name: 'payments' };

  it('brings every workload of the namespace over one stream, and answers for each', async () => {
    const client = new ScriptedClient();
    const watch = new ScriptedWatch();
    const routes = table({ client, watch, alsoFor: [INGRESS, PAYMENTS] });
    assert.deepEqual(watch.filter, { baselineNamespace: 'ns' }, 'one stream: the namespace');
    const other = { kind: 'Deployment', namespace: 'ns', name: 'not-ours' };
    watch.synced([
      rule('k1', 'alpha'),
      rule('k1', 'beta', PAYMENTS),
      rule('k2', 'gamma', INGRESS),
      rule('k1', 'x', other),
    ]);
    assert.deepEqual(await routes.ownerOf('k1'), { kind: 'sandbox', sandboxName: 'alpha' });
    assert.deepEqual(await routes.ownerOf('k1', PAYMENTS), { kind: 'sandbox', sandboxName: 'beta' });
    assert.deepEqual(await routes.ownerOf('k1', INGRESS), { kind: 'baseline' });
    const payments = routes.forWorkload(PAYMENTS);
    assert.deepEqual(payments.baseline, PAYMENTS);
    assert.deepEqual(await payments.ownerOf('k1'), { kind: 'sandbox', sandboxName: 'beta' });
    assert.equal(payments.stats().rules, 1);
    assert.equal(routes.stats().rules, 3, 'the rules of every held workload; not the foreign one');
    assert.throws(() => routes.forWorkload(other), /does not hold/);
    await assert.rejects(routes.ownerOf('k1', other), /does not hold/);
    // A change to one workload reaches only its view.
    watch.listener?.change('REPLACE', rule('k1', 'delta', PAYMENTS));
    assert.deepEqual(payments.peekOwner('k1'), { kind: 'sandbox', sandboxName: 'delta' });
    assert.deepEqual(routes.peekOwner('k1'), { kind: 'sandbox', sandboxName: 'alpha' });
  });

  it('refuses workloads of another namespace (one stream serves one namespace)', () => {
    assert.throws(
      () =>
        new RouteTable({
          client: new ScriptedClient(),
          baseline: WORKER,
          alsoFor: [{ ...PAYMENTS, namespace: 'other' }],
          refreshIntervalMs: 1,
          unknownKeyRefetchIntervalMs: 1,
          firstSyncTimeoutMs: 1,
        }),
      /one namespace/,
    );
  });

  it('while polling, an unknown key of one workload waits for a fresh fetch of all', async () => {
    const client = new ScriptedClient();
    const routes = table({ client, alsoFor: [PAYMENTS] });
    await client.called(1);
    client.answer([rule('k1', 'alpha')]);
    await routes.waitForFirstSync();
    const pending = routes.ownerOf('k1', PAYMENTS); // known for the worker, not for payments
    await client.called(2);
    client.answer([rule('k1', 'alpha'), rule('k1', 'beta', PAYMENTS)]);
    assert.deepEqual(await pending, { kind: 'sandbox', sandboxName: 'beta' });
  });
});
