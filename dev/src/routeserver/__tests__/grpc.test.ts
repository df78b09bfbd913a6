/**
 * Conformance of the stand-in's gRPC API (`routes.Routes`) with Signadot's routes.proto, through a
 * generic client generated from the proto at run time (proto field names as written, snake_case, as
 * Signadot's Go client and `sdroutes` see them) — independent of the library's own watch client.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ROUTES_PROTO_PATH } from '@sandbox-routing/core';
import { pollUntil } from '@sandbox-routing/testkit';
import fc from 'fast-check';
import type { InitialState } from '../model';
import { createRouteserverStandIn, type RouteserverStandIn } from '../server';
import { call, getRules, ingress, put, rollout, ruleText, TWO_SANDBOXES, worker } from './helpers';

interface WireRule {
  routing_key: string;
  baseline: { kind: string; namespace: string; name: string } | null;
  destination_sandbox: { name: string } | null;
  mappings: unknown[];
}
interface WireOp {
  op: 'ADD' | 'REMOVE' | 'REPLACE' | 'SYNCED';
  route: WireRule | null;
}
interface WireRequest {
  baseline_workload?: { kind?: string; namespace?: string; name?: string };
  routing_key?: string;
  destination_sandbox?: { name?: string };
}
interface RoutesClient extends grpc.Client {
  GetWorkloadRoutingRules(
    request: WireRequest,
    callback: (error: grpc.ServiceError | null, response?: { routingRules: WireRule[] }) => void,
  ): grpc.ClientUnaryCall;
  WatchWorkloadRoutingRules(request: WireRequest): grpc.ClientReadableStream<WireOp>;
  GetClusterServices(
    request: Record<string, never>,
    callback: (error: grpc.ServiceError | null) => void,
  ): grpc.ClientUnaryCall;
}

const definition = protoLoader.loadSync(ROUTES_PROTO_PATH, { keepCase: true, enums: String, defaults: true });
const RoutesService = (
  grpc.loadPackageDefinition(definition) as unknown as { routes: { Routes: grpc.ServiceClientConstructor } }
).routes.Routes;

/** HTTP query parameters and the same filter as a gRPC request. */
const FILTERS: Array<[Record<string, string>, WireRequest]> = [
  [{}, {}],
  [{ baselineKind: 'ArgoRollout' }, { baseline_workload: { kind: 'ArgoRollout' } }],
  [{ baselineNamespace: 'other' }, { baseline_workload: { namespace: 'other' } }],
  [{ baselineName: 'ingress' }, { baseline_workload: { name: 'ingress' } }],
  [{ routingKey: 'kb' }, { routing_key: 'kb' }],
  [{ destinationSandboxName: 'alpha' }, { destination_sandbox: { name: 'alpha' } }],
  [
    { baselineKind: 'Deployment', baselineNamespace: 'local', baselineName: 'worker' },
    { baseline_workload: { kind: 'Deployment', namespace: 'local', name: 'worker' } },
  ],
  [
    { baselineName: 'worker', destinationSandboxName: 'beta' },
    { baseline_workload: { name: 'worker' }, destination_sandbox: { name: 'beta' } },
  ],
  [{ baselineName: 'work' }, { baseline_workload: { name: 'work' } }],
];

function wireText(rule: WireRule | null): string {
  assert.ok(rule?.baseline && rule.destination_sandbox, 'a rule with baseline and destination_sandbox');
  return ruleText({
    routingKey: rule.routing_key,
    baseline: rule.baseline,
    destinationSandbox: { name: rule.destination_sandbox.name },
  });
}

async function startWithGrpc(
  t: { after(fn: () => unknown): void },
  initialState?: InitialState,
): Promise<{ standIn: RouteserverStandIn; client: RoutesClient }> {
  const standIn = await createRouteserverStandIn({ host: '127.0.0.1', port: 0, grpcPort: 0, initialState });
  const client = new RoutesService(
    standIn.grpcAddress as string,
    grpc.credentials.createInsecure(),
  ) as unknown as RoutesClient;
  t.after(async () => {
    client.close();
    await standIn.close();
  });
  return { standIn, client };
}

function getRulesOverGrpc(client: RoutesClient, request: WireRequest): Promise<string[]> {
  return new Promise((resolve, reject) =>
    client.GetWorkloadRoutingRules(request, (error, response) =>
      error ? reject(error) : resolve((response?.routingRules ?? []).map(wireText)),
    ),
  );
}

/**
 * A watch stream and what it taught its client, checking the protocol on every op: only ADDs before
 * the one SYNCED; afterwards ADD only for a new rule identity (baseline + key), REMOVE and REPLACE only
 * for a present one.
 */
class Watcher {
  readonly ops: WireOp[] = [];
  readonly set = new Map<string, string>();
  synced = false;
  violation: string | undefined;
  ended: grpc.StatusObject | undefined;
  private readonly stream: grpc.ClientReadableStream<WireOp>;

  constructor(client: RoutesClient, request: WireRequest) {
    this.stream = client.WatchWorkloadRoutingRules(request);
    this.stream.on('data', (op: WireOp) => this.apply(op));
    this.stream.on('error', () => {});
    this.stream.on('status', (status) => {
      this.ended = status;
    });
  }

  private apply(op: WireOp): void {
    this.ops.push(op);
    const fail = (why: string) => {
      this.violation ??= `${why} (op #${this.ops.length}: ${op.op} ${op.route ? wireText(op.route) : ''})`;
    };
    if (op.op === 'SYNCED') {
      if (this.synced) fail('a second SYNCED');
      this.synced = true;
      return;
    }
    if (!this.synced && op.op !== 'ADD') fail('not an ADD before SYNCED');
    const rule = op.route;
    if (!rule?.baseline || !rule.destination_sandbox) {
      fail('an op without a rule');
      return;
    }
    const { kind, namespace, name } = rule.baseline;
    const identity = `${kind}/${namespace}/${name}#${rule.routing_key}`;
    const present = this.set.has(identity);
    if (op.op === 'ADD' && present) fail('ADD of a present rule');
    if (op.op !== 'ADD' && !present) fail(`${op.op} of an absent rule`);
    if (op.op === 'REMOVE') this.set.delete(identity);
    else this.set.set(identity, wireText(rule));
  }

  rules(): string[] {
    return [...this.set.values()].sort();
  }

  /** Ops received since SYNCED, as `OP text`. */
  changesAfterSync(): string[] {
    const synced = this.ops.findIndex((op) => op.op === 'SYNCED');
    return this.ops.slice(synced + 1).map((op) => `${op.op} ${wireText(op.route)}`);
  }

  async untilSynced(): Promise<void> {
    await pollUntil(() => this.synced || undefined, {
      description: 'SYNCED',
      timeoutMs: 5000,
      intervalMs: 5,
      abortIf: () => {
        if (this.ended) throw new Error(`stream ended: ${this.ended.code} ${this.ended.details}`);
      },
    });
  }

  /** Waits until the watched set equals `expected` (the HTTP answer), with no protocol violation. */
  async until(expected: string[], description: string): Promise<void> {
    await pollUntil(
      () => {
        if (this.violation) throw new Error(this.violation);
        return JSON.stringify(this.rules()) === JSON.stringify(expected) || undefined;
      },
      { description: `${description}: ${JSON.stringify(expected)}`, timeoutMs: 5000, intervalMs: 5 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; watched ${JSON.stringify(this.rules())}; ${this.violation ?? ''}`);
    });
  }

  cancel(): void {
    this.stream.cancel();
  }
}

/** The HTTP answer for `query`, sorted, as rule texts. */
async function httpRules(url: string, query: Record<string, string> = {}): Promise<string[]> {
  const reply = await getRules(url, query);
  return ((reply.json as { routingRules?: unknown[] }).routingRules ?? []).map(ruleText).sort();
}

describe('gRPC GetWorkloadRoutingRules', () => {
  test('answers every filter exactly as the HTTP API does', async (t) => {
    const { standIn, client } = await startWithGrpc(t, TWO_SANDBOXES);
    await put(standIn.url, '/admin/routegroups/team', { routingKey: 'kg', sandboxes: ['alpha', 'beta'] });
    for (const [query, request] of FILTERS) {
      const over = (await getRulesOverGrpc(client, request)).sort();
      assert.deepEqual(over, await httpRules(standIn.url, query), JSON.stringify(request));
    }
    assert.deepEqual(await getRulesOverGrpc(client, { routing_key: 'kb' }), [
      'kb → beta @ ArgoRollout/other/worker',
      'kb → beta @ Deployment/local/worker',
    ]);
    assert.deepEqual(await getRulesOverGrpc(client, { routing_key: 'none' }), []);
  });

  test('injected faults: UNIMPLEMENTED on request; GetClusterServices is not served', async (t) => {
    const { standIn, client } = await startWithGrpc(t, TWO_SANDBOXES);
    const unimplemented = (error: grpc.ServiceError) => error.code === grpc.status.UNIMPLEMENTED;
    await assert.rejects(
      new Promise<void>((resolve, reject) =>
        client.GetClusterServices({}, (error) => (error ? reject(error) : resolve())),
      ),
      unimplemented,
    );
    await put(standIn.url, '/admin/behaviour', { grpc: 'unimplemented' });
    await assert.rejects(getRulesOverGrpc(client, {}), unimplemented);
    const watch = new Watcher(client, {});
    await pollUntil(() => watch.ended, { description: 'the watch to end', timeoutMs: 5000, intervalMs: 5 });
    assert.equal(watch.ended?.code, grpc.status.UNIMPLEMENTED);
    await put(standIn.url, '/admin/behaviour', { grpc: 'serve' });
    assert.equal((await getRulesOverGrpc(client, {})).length, 4);
  });
});

describe('gRPC WatchWorkloadRoutingRules', () => {
  test('sends one ADD per matching rule, then exactly one SYNCED', async (t) => {
    const { client } = await startWithGrpc(t, TWO_SANDBOXES);
    const watch = new Watcher(client, { baseline_workload: worker });
    await watch.untilSynced();
    assert.deepEqual(
      watch.ops.map((op) => `${op.op} ${op.route ? wireText(op.route) : ''}`.trim()),
      ['ADD ka → alpha @ Deployment/local/worker', 'ADD kb → beta @ Deployment/local/worker', 'SYNCED'],
    );
    assert.equal(watch.violation, undefined);
    watch.cancel();
  });

  test('each filter: the initial set equals the HTTP answer', async (t) => {
    const { standIn, client } = await startWithGrpc(t, TWO_SANDBOXES);
    await put(standIn.url, '/admin/routegroups/team', { routingKey: 'kg', sandboxes: ['alpha', 'beta'] });
    for (const [query, request] of FILTERS) {
      const watch = new Watcher(client, request);
      await watch.untilSynced();
      assert.deepEqual(watch.rules(), await httpRules(standIn.url, query), JSON.stringify(request));
      watch.cancel();
    }
  });

  test('REMOVE when a sandbox is deleted; ADD when one is created; changes elsewhere are not sent', async (t) => {
    const { standIn, client } = await startWithGrpc(t, TWO_SANDBOXES);
    const watch = new Watcher(client, { baseline_workload: worker });
    await watch.untilSynced();
    assert.equal((await call(standIn.url, 'DELETE', '/admin/sandboxes/alpha')).status, 204);
    await put(standIn.url, '/admin/sandboxes/gamma', { routingKey: 'kc', forks: [ingress] }); // not the worker
    await put(standIn.url, '/admin/sandboxes/delta', { routingKey: 'kd', forks: [worker] });
    await watch.until(
      await httpRules(standIn.url, { baselineName: 'worker', baselineKind: 'Deployment' }),
      'ops',
    );
    assert.deepEqual(watch.changesAfterSync(), [
      'REMOVE ka → alpha @ Deployment/local/worker',
      'ADD kd → delta @ Deployment/local/worker',
    ]);
    watch.cancel();
  });

  test('REPLACE when a rule of the same baseline and key goes to another sandbox', async (t) => {
    const { standIn, client } = await startWithGrpc(t, TWO_SANDBOXES);
    await put(standIn.url, '/admin/routegroups/team', { routingKey: 'kg', sandboxes: ['beta'] });
    const all = new Watcher(client, { routing_key: 'kg' });
    const onlyBeta = new Watcher(client, { destination_sandbox: { name: 'beta' } });
    await Promise.all([all.untilSynced(), onlyBeta.untilSynced()]);
    await put(standIn.url, '/admin/routegroups/team', { routingKey: 'kg', sandboxes: ['alpha'] });
    await all.until(await httpRules(standIn.url, { routingKey: 'kg' }), 'replaced');
    assert.deepEqual(all.changesAfterSync(), [
      'ADD kg → alpha @ Deployment/local/ingress',
      'REPLACE kg → alpha @ Deployment/local/worker',
      'REMOVE kg → beta @ ArgoRollout/other/worker',
    ]);
    // Filtered by destination, the same change is a removal: the rule no longer goes to beta.
    await onlyBeta.until(await httpRules(standIn.url, { destinationSandboxName: 'beta' }), 'beta only');
    assert.deepEqual(onlyBeta.changesAfterSync(), [
      'REMOVE kg → beta @ ArgoRollout/other/worker',
      'REMOVE kg → beta @ Deployment/local/worker',
    ]);
    all.cancel();
    onlyBeta.cancel();
  });

  test('RouteGroups expand to the rules of their members, also members created later', async (t) => {
    const { standIn, client } = await startWithGrpc(t, TWO_SANDBOXES);
    const watch = new Watcher(client, { routing_key: 'kg' });
    await watch.untilSynced();
    assert.deepEqual(watch.rules(), []);
    await put(standIn.url, '/admin/routegroups/team', { routingKey: 'kg', sandboxes: ['beta', 'ghost'] });
    await put(standIn.url, '/admin/sandboxes/ghost', { routingKey: 'kh', forks: [ingress] });
    const expected = [
      'kg → beta @ ArgoRollout/other/worker',
      'kg → beta @ Deployment/local/worker',
      'kg → ghost @ Deployment/local/ingress',
    ];
    await watch.until(expected, 'the group');
    assert.deepEqual(await httpRules(standIn.url, { routingKey: 'kg' }), expected);
    assert.equal((await call(standIn.url, 'DELETE', '/admin/routegroups/team')).status, 204);
    await watch.until([], 'no group');
    watch.cancel();
  });

  test('two concurrent watchers receive the same ops', async (t) => {
    const { standIn, client } = await startWithGrpc(t, TWO_SANDBOXES);
    const first = new Watcher(client, {});
    const second = new Watcher(client, {});
    await Promise.all([first.untilSynced(), second.untilSynced()]);
    await put(standIn.url, '/admin/sandboxes/gamma', { routingKey: 'kc', forks: [worker] });
    await put(standIn.url, '/admin/routegroups/team', { routingKey: 'kg', sandboxes: ['gamma', 'alpha'] });
    assert.equal((await call(standIn.url, 'DELETE', '/admin/sandboxes/beta')).status, 204);
    const expected = await httpRules(standIn.url);
    await Promise.all([first.until(expected, 'first'), second.until(expected, 'second')]);
    assert.deepEqual(first.ops, second.ops);
    const active = (await call(standIn.url, 'GET', '/admin/requests')).json as { activeWatches: number };
    assert.equal(active.activeWatches, 2);
    first.cancel();
    second.cancel();
    await pollUntil(
      async () =>
        ((await call(standIn.url, 'GET', '/admin/requests')).json as { activeWatches: number })
          .activeWatches === 0 || undefined,
      { description: 'cancelled streams to be forgotten', timeoutMs: 5000, intervalMs: 10 },
    );
  });

  test('with a slow SYNCED: the ADDs come at once; changes meanwhile are folded into the sync', async (t) => {
    const { standIn, client } = await startWithGrpc(t, TWO_SANDBOXES);
    await put(standIn.url, '/admin/behaviour', { delayMs: 1000 });
    const watch = new Watcher(client, { baseline_workload: worker });
    await pollUntil(() => watch.ops.length === 2 || undefined, {
      description: 'the initial ADDs',
      timeoutMs: 5000,
      intervalMs: 5,
    });
    assert.equal(watch.synced, false);
    await put(standIn.url, '/admin/sandboxes/gamma', { routingKey: 'kc', forks: [worker] });
    assert.equal((await call(standIn.url, 'DELETE', '/admin/sandboxes/alpha')).status, 204);
    await watch.untilSynced();
    await watch.until(
      await httpRules(standIn.url, { baselineName: 'worker', baselineKind: 'Deployment' }),
      'after the sync',
    );
    assert.deepEqual(
      watch.ops.map((op) => `${op.op} ${op.route ? wireText(op.route) : ''}`.trim()),
      [
        'ADD ka → alpha @ Deployment/local/worker',
        'ADD kb → beta @ Deployment/local/worker',
        'ADD kc → gamma @ Deployment/local/worker',
        'SYNCED',
        'REMOVE ka → alpha @ Deployment/local/worker',
      ],
    );
    watch.cancel();
  });

  test('watchers that connect in the middle of changes always end with the HTTP answer', async (t) => {
    const { standIn, client } = await startWithGrpc(t);
    const names = ['alpha', 'beta', 'gamma'];
    const workloads = [worker, ingress, rollout];
    const change = fc.oneof(
      fc.record({
        kind: fc.constant('putSandbox' as const),
        name: fc.constantFrom(...names),
        key: fc.constantFrom('k1', 'k2', 'k3', 'k4'),
        forks: fc.subarray(workloads, { minLength: 1 }),
      }),
      fc.record({ kind: fc.constant('deleteSandbox' as const), name: fc.constantFrom(...names) }),
      fc.record({
        kind: fc.constant('putGroup' as const),
        key: fc.constantFrom('g1', 'g2'),
        members: fc.subarray(names, { minLength: 1 }),
      }),
      fc.record({ kind: fc.constant('deleteGroup' as const) }),
    );
    const filters: Array<[Record<string, string>, WireRequest]> = [
      [{}, {}],
      [{ baselineName: 'worker', baselineKind: 'Deployment' }, { baseline_workload: worker }],
      [{ destinationSandboxName: 'beta' }, { destination_sandbox: { name: 'beta' } }],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(change, { minLength: 1, maxLength: 10 }),
        fc.nat({ max: 10 }),
        async (changes, joinAt) => {
          await call(standIn.url, 'POST', '/admin/reset');
          const early = filters.map(([, request]) => new Watcher(client, request));
          await Promise.all(early.map((w) => w.untilSynced()));
          const late: Watcher[] = [];
          // Admin calls and watch starts interleave without waiting for each other.
          const pending: Promise<unknown>[] = [];
          changes.forEach((c, index) => {
            if (index === joinAt) late.push(...filters.map(([, request]) => new Watcher(client, request)));
            if (c.kind === 'putSandbox')
              pending.push(
                put(standIn.url, `/admin/sandboxes/${c.name}`, { routingKey: c.key, forks: c.forks }),
              );
            if (c.kind === 'deleteSandbox')
              pending.push(call(standIn.url, 'DELETE', `/admin/sandboxes/${c.name}`));
            if (c.kind === 'putGroup')
              pending.push(
                put(standIn.url, '/admin/routegroups/grp', { routingKey: c.key, sandboxes: c.members }),
              );
            if (c.kind === 'deleteGroup') pending.push(call(standIn.url, 'DELETE', '/admin/routegroups/grp'));
          });
          if (late.length === 0) late.push(...filters.map(([, request]) => new Watcher(client, request)));
          await Promise.all(pending);
          for (const [index, [query]] of filters.entries()) {
            const expected = await httpRules(standIn.url, query);
            await early[index]?.until(expected, `early watcher ${JSON.stringify(query)}`);
            await late[index]?.until(expected, `late watcher ${JSON.stringify(query)}`);
          }
          for (const w of [...early, ...late]) w.cancel();
        },
      ),
      { numRuns: 15 },
    );
  });

  test('closing the server ends open streams with an error status', async (t) => {
    const { standIn, client } = await startWithGrpc(t, TWO_SANDBOXES);
    const watch = new Watcher(client, {});
    await watch.untilSynced();
    await standIn.close();
    await pollUntil(() => watch.ended, { description: 'the stream to end', timeoutMs: 5000, intervalMs: 5 });
    assert.notEqual(watch.ended?.code, grpc.status.OK);
  });
});
