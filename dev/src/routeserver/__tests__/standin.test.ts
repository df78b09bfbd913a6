/** Conformance tests of the routeserver stand-in over real HTTP (127.0.0.1, port 0). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { InitialState } from '../model';
import { createRouteserverStandIn } from '../server';
import { loadStateFile } from '../state-file';
import {
  call,
  collect,
  freePort,
  getRules,
  ingress,
  put,
  rollout,
  ruleTexts,
  startStandIn,
  TWO_SANDBOXES,
  waitUntil,
  worker,
} from './helpers';

const MAIN_JS = join(__dirname, '..', 'main.js');
const EXAMPLE_STATE = join(__dirname, '..', '..', '..', 'routeserver-state.example.yaml');

describe('GET /api/v1/workloads/routing-rules', () => {
  test('without filters returns every rule, sorted, in the real camelCase shape', async (t) => {
    const url = await startStandIn(t, { initialState: TWO_SANDBOXES });
    const reply = await getRules(url);
    assert.equal(reply.status, 200);
    assert.match(reply.contentType, /^application\/json/);
    assert.deepEqual(reply.json, {
      routingRules: [
        { routingKey: 'ka', baseline: ingress, destinationSandbox: { name: 'alpha' } },
        { routingKey: 'ka', baseline: worker, destinationSandbox: { name: 'alpha' } },
        { routingKey: 'kb', baseline: rollout, destinationSandbox: { name: 'beta' } },
        { routingKey: 'kb', baseline: worker, destinationSandbox: { name: 'beta' } },
      ],
    });
  });

  test('each filter alone narrows by exact match', async (t) => {
    const url = await startStandIn(t, { initialState: TWO_SANDBOXES });
    const cases: Array<[Record<string, string>, string[]]> = [
      [{ baselineKind: 'ArgoRollout' }, ['kb → beta @ ArgoRollout/other/worker']],
      [{ baselineNamespace: 'other' }, ['kb → beta @ ArgoRollout/other/worker']],
      [{ baselineName: 'ingress' }, ['ka → alpha @ Deployment/local/ingress']],
      [{ routingKey: 'kb' }, ['kb → beta @ ArgoRollout/other/worker', 'kb → beta @ Deployment/local/worker']],
      [
        { destinationSandboxName: 'alpha' },
        ['ka → alpha @ Deployment/local/ingress', 'ka → alpha @ Deployment/local/worker'],
      ],
      // Exact, not prefix or case-insensitive.
      [{ baselineName: 'work' }, []],
      [{ baselineKind: 'deployment' }, []],
    ];
    for (const [query, expected] of cases) {
      const reply = await getRules(url, query);
      assert.equal(reply.status, 200);
      assert.deepEqual(ruleTexts(reply), expected, JSON.stringify(query));
    }
  });

  test('filters combine (all must match)', async (t) => {
    const url = await startStandIn(t, { initialState: TWO_SANDBOXES });
    const baseline = { baselineKind: 'Deployment', baselineNamespace: 'local', baselineName: 'worker' };
    assert.deepEqual(ruleTexts(await getRules(url, baseline)), [
      'ka → alpha @ Deployment/local/worker',
      'kb → beta @ Deployment/local/worker',
    ]);
    assert.deepEqual(ruleTexts(await getRules(url, { ...baseline, destinationSandboxName: 'beta' })), [
      'kb → beta @ Deployment/local/worker',
    ]);
    assert.deepEqual(ruleTexts(await getRules(url, { ...baseline, routingKey: 'ka' })), [
      'ka → alpha @ Deployment/local/worker',
    ]);
    assert.deepEqual((await getRules(url, { routingKey: 'ka', destinationSandboxName: 'beta' })).json, {});
  });

  test('unknown query parameters are ignored and an empty filter does not narrow', async (t) => {
    const url = await startStandIn(t, { initialState: TWO_SANDBOXES });
    const all = ruleTexts(await getRules(url));
    assert.equal(all.length, 4);
    assert.deepEqual(ruleTexts(await getRules(url, { foo: 'bar', baseline_name: 'nope' })), all);
    assert.deepEqual(ruleTexts(await getRules(url, { routingKey: '' })), all);
    assert.deepEqual(ruleTexts(await getRules(url, { baselineName: 'ingress', sandbox: 'beta' })), [
      'ka → alpha @ Deployment/local/ingress',
    ]);
  });

  test('an empty result is {} by default and {"routingRules":[]} after the behaviour switch', async (t) => {
    const url = await startStandIn(t);
    const empty = await getRules(url);
    assert.equal(empty.status, 200);
    assert.equal(empty.text, '{}');

    const set = await put(url, '/admin/behaviour', { emptyRoutingRules: 'empty-array' });
    assert.equal(set.status, 200);
    assert.deepEqual(set.json, {
      emptyRoutingRules: 'empty-array',
      delayMs: 0,
      respondWith: 'rules',
      grpc: 'serve',
    });
    assert.equal((await getRules(url)).text, '{"routingRules":[]}');

    // Also when rules exist but the filter matches none.
    assert.equal(
      (await put(url, '/admin/sandboxes/alpha', { routingKey: 'ka', forks: [worker] })).status,
      201,
    );
    assert.equal((await getRules(url, { routingKey: 'zz' })).text, '{"routingRules":[]}');
    await put(url, '/admin/behaviour', { emptyRoutingRules: 'omit' });
    assert.equal((await getRules(url, { routingKey: 'zz' })).text, '{}');
  });
});

describe('route groups', () => {
  test('expand to one rule per forked workload of each existing member', async (t) => {
    const url = await startStandIn(t, { initialState: TWO_SANDBOXES });
    const created = await put(url, '/admin/routegroups/team', {
      routingKey: 'kg',
      sandboxes: ['alpha', 'beta', 'ghost'],
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json, { name: 'team', routingKey: 'kg', sandboxes: ['alpha', 'beta', 'ghost'] });
    // A rule is identified by baseline and key: alpha and beta both fork the worker, alpha (first by
    // name) keeps that rule.
    assert.deepEqual(ruleTexts(await getRules(url, { routingKey: 'kg' })), [
      'kg → alpha @ Deployment/local/ingress',
      'kg → alpha @ Deployment/local/worker',
      'kg → beta @ ArgoRollout/other/worker',
    ]);
    // The sandboxes' own keys still route too; the group adds rules, it does not move them.
    assert.deepEqual(
      ruleTexts(await getRules(url, { destinationSandboxName: 'alpha', baselineName: 'worker' })),
      ['ka → alpha @ Deployment/local/worker', 'kg → alpha @ Deployment/local/worker'],
    );
    assert.deepEqual((await getRules(url, { destinationSandboxName: 'ghost' })).json, {});
  });

  test('a member deleted later disappears from the group; one created later appears', async (t) => {
    const url = await startStandIn(t, { initialState: TWO_SANDBOXES });
    await put(url, '/admin/routegroups/team', { routingKey: 'kg', sandboxes: ['alpha', 'beta', 'ghost'] });
    assert.equal((await call(url, 'DELETE', '/admin/sandboxes/beta')).status, 204);
    assert.deepEqual(ruleTexts(await getRules(url, { routingKey: 'kg' })), [
      'kg → alpha @ Deployment/local/ingress',
      'kg → alpha @ Deployment/local/worker',
    ]);
    assert.equal(
      (await put(url, '/admin/sandboxes/ghost', { routingKey: 'kh', forks: [rollout] })).status,
      201,
    );
    assert.deepEqual(ruleTexts(await getRules(url, { routingKey: 'kg' })), [
      'kg → alpha @ Deployment/local/ingress',
      'kg → alpha @ Deployment/local/worker',
      'kg → ghost @ ArgoRollout/other/worker',
    ]);
    // Once alpha is gone, the member next by name that forks the same workload takes its rules.
    assert.equal((await call(url, 'DELETE', '/admin/sandboxes/alpha')).status, 204);
    assert.equal(
      (await put(url, '/admin/sandboxes/beta', { routingKey: 'kb', forks: [worker, ingress] })).status,
      201,
    );
    assert.deepEqual(ruleTexts(await getRules(url, { routingKey: 'kg' })), [
      'kg → beta @ Deployment/local/ingress',
      'kg → beta @ Deployment/local/worker',
      'kg → ghost @ ArgoRollout/other/worker',
    ]);
    // The group keeps listing the deleted member.
    const state = (await call(url, 'GET', '/admin/state')).json as InitialState;
    assert.deepEqual(state.routeGroups?.team?.sandboxes, ['alpha', 'beta', 'ghost']);
  });

  test('create (201), replace (200, old rules gone), delete (204, then 404)', async (t) => {
    const url = await startStandIn(t, { initialState: TWO_SANDBOXES });
    assert.equal(
      (await put(url, '/admin/routegroups/team', { routingKey: 'kg', sandboxes: ['alpha'] })).status,
      201,
    );
    const replaced = await put(url, '/admin/routegroups/team', { routingKey: 'kg2', sandboxes: ['beta'] });
    assert.equal(replaced.status, 200);
    assert.deepEqual((await getRules(url, { routingKey: 'kg' })).json, {});
    assert.equal(ruleTexts(await getRules(url, { routingKey: 'kg2' })).length, 2);
    assert.equal((await call(url, 'DELETE', '/admin/routegroups/team')).status, 204);
    assert.deepEqual((await getRules(url, { routingKey: 'kg2' })).json, {});
    const again = await call(url, 'DELETE', '/admin/routegroups/team');
    assert.equal(again.status, 404);
    assert.match(String((again.json as { message: string }).message), /team/);
  });
});

describe('admin: sandboxes', () => {
  test('create (201), replace (200, old rules gone), delete (204, then 404)', async (t) => {
    const url = await startStandIn(t);
    const created = await put(url, '/admin/sandboxes/alpha', {
      routingKey: 'k-old',
      forks: [worker, ingress],
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json, { name: 'alpha', routingKey: 'k-old', forks: [worker, ingress] });
    assert.equal(ruleTexts(await getRules(url)).length, 2);

    const replaced = await put(url, '/admin/sandboxes/alpha', { routingKey: 'k-new', forks: [rollout] });
    assert.equal(replaced.status, 200);
    assert.deepEqual(replaced.json, { name: 'alpha', routingKey: 'k-new', forks: [rollout] });
    assert.deepEqual(ruleTexts(await getRules(url)), ['k-new → alpha @ ArgoRollout/other/worker']);

    const state = await call(url, 'GET', '/admin/state');
    assert.deepEqual(state.json, {
      sandboxes: { alpha: { routingKey: 'k-new', forks: [rollout] } },
      routeGroups: {},
      behaviour: { emptyRoutingRules: 'omit', delayMs: 0, respondWith: 'rules', grpc: 'serve' },
    });

    assert.equal((await call(url, 'DELETE', '/admin/sandboxes/alpha')).status, 204);
    assert.equal((await getRules(url)).text, '{}');
    assert.equal((await call(url, 'DELETE', '/admin/sandboxes/alpha')).status, 404);
  });

  test('routing keys are unique across sandboxes and route groups (409 with reason)', async (t) => {
    const url = await startStandIn(t, { initialState: TWO_SANDBOXES });
    const clash = await put(url, '/admin/sandboxes/gamma', { routingKey: 'ka', forks: [worker] });
    assert.equal(clash.status, 409);
    assert.match((clash.json as { message: string }).message, /"ka".*sandbox "alpha"/);
    assert.equal(
      (await put(url, '/admin/routegroups/team', { routingKey: 'kb', sandboxes: ['alpha'] })).status,
      409,
    );
    assert.equal(
      (await put(url, '/admin/routegroups/team', { routingKey: 'kg', sandboxes: ['alpha'] })).status,
      201,
    );
    const groupClash = await put(url, '/admin/routegroups/other', { routingKey: 'kg', sandboxes: ['beta'] });
    assert.equal(groupClash.status, 409);
    assert.match((groupClash.json as { message: string }).message, /route group "team"/);
    assert.equal(
      (await put(url, '/admin/sandboxes/gamma', { routingKey: 'kg', forks: [worker] })).status,
      409,
    );
    // Replacing a sandbox may keep its own key.
    assert.equal(
      (await put(url, '/admin/sandboxes/alpha', { routingKey: 'ka', forks: [worker] })).status,
      200,
    );
    // A rejected put changes nothing.
    const state = (await call(url, 'GET', '/admin/state')).json as InitialState;
    assert.deepEqual(Object.keys(state.sandboxes ?? {}), ['alpha', 'beta']);
    assert.deepEqual(Object.keys(state.routeGroups ?? {}), ['team']);
  });

  test('bad admin input is rejected with 400 naming the field, and nothing is stored', async (t) => {
    const url = await startStandIn(t);
    const ok = { routingKey: 'k1', forks: [worker] };
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['bad name', '/admin/sandboxes/9lives', ok, /params\/name/],
      ['name ending in a dash', '/admin/sandboxes/alpha-', ok, /params\/name/],
      ['name too long', `/admin/sandboxes/${'a'.repeat(31)}`, ok, /params\/name .*30/],
      ['bad key', '/admin/sandboxes/alpha', { ...ok, routingKey: 'has space' }, /body\/routingKey/],
      ['key too long', '/admin/sandboxes/alpha', { ...ok, routingKey: 'k'.repeat(65) }, /body\/routingKey/],
      [
        'key of the wrong type',
        '/admin/sandboxes/alpha',
        { ...ok, routingKey: 123 },
        /body\/routingKey must be string/,
      ],
      ['missing forks', '/admin/sandboxes/alpha', { routingKey: 'k1' }, /forks/],
      ['empty forks', '/admin/sandboxes/alpha', { ...ok, forks: [] }, /body\/forks/],
      [
        'duplicate fork',
        '/admin/sandboxes/alpha',
        { ...ok, forks: [worker, worker] },
        /body\/forks .*duplicate/,
      ],
      [
        'unknown property',
        '/admin/sandboxes/alpha',
        { ...ok, colour: 'red' },
        /body has unknown property "colour"/,
      ],
      [
        'unknown property in a fork',
        '/admin/sandboxes/alpha',
        { ...ok, forks: [{ ...worker, replicas: 2 }] },
        /body\/forks\/0 has unknown property "replicas"/,
      ],
      [
        'bad kind',
        '/admin/sandboxes/alpha',
        { ...ok, forks: [{ ...worker, kind: 'StatefulSet' }] },
        /body\/forks\/0\/kind must be one of "Deployment", "ArgoRollout"/,
      ],
      [
        'bad namespace',
        '/admin/sandboxes/alpha',
        { ...ok, forks: [{ ...worker, namespace: 'Local' }] },
        /body\/forks\/0\/namespace/,
      ],
      ['invalid JSON', '/admin/sandboxes/alpha', '{"routingKey": "k1",', /JSON/],
      [
        'group without members',
        '/admin/routegroups/team',
        { routingKey: 'kg', sandboxes: [] },
        /body\/sandboxes/,
      ],
      [
        'group with a bad member name',
        '/admin/routegroups/team',
        { routingKey: 'kg', sandboxes: ['no spaces'] },
        /body\/sandboxes\/0/,
      ],
      [
        'group with a bad name',
        '/admin/routegroups/-team',
        { routingKey: 'kg', sandboxes: ['a'] },
        /params\/name/,
      ],
      ['delay too long', '/admin/behaviour', { delayMs: 60001 }, /body\/delayMs/],
      ['delay as a string', '/admin/behaviour', { delayMs: '5' }, /body\/delayMs must be integer/],
      ['bad respondWith', '/admin/behaviour', { respondWith: 'teapot' }, /body\/respondWith must be one of/],
      ['unknown behaviour', '/admin/behaviour', { chaos: true }, /unknown property "chaos"/],
    ];
    for (const [label, path, body, message] of cases) {
      const reply = await put(url, path, body);
      assert.equal(reply.status, 400, `${label}: ${reply.text}`);
      const error = reply.json as { error: string; message: string };
      assert.equal(error.error, 'Bad Request', label);
      assert.match(error.message, message, label);
    }
    assert.deepEqual((await call(url, 'GET', '/admin/state')).json, {
      sandboxes: {},
      routeGroups: {},
      behaviour: { emptyRoutingRules: 'omit', delayMs: 0, respondWith: 'rules', grpc: 'serve' },
    });
  });
});

describe('admin: behaviour, counter, reset', () => {
  test('malformed-json and http-500 break only the routing-rules endpoint until switched back', async (t) => {
    const url = await startStandIn(t, { initialState: TWO_SANDBOXES });
    await put(url, '/admin/behaviour', { respondWith: 'malformed-json' });
    const malformed = await getRules(url);
    assert.equal(malformed.status, 200);
    assert.match(malformed.contentType, /^application\/json/);
    assert.throws(() => JSON.parse(malformed.text), SyntaxError);
    assert.equal((await call(url, 'GET', '/admin/state')).status, 200);

    await put(url, '/admin/behaviour', { respondWith: 'http-500' });
    const failed = await getRules(url);
    assert.equal(failed.status, 500);
    assert.equal((failed.json as { code: number }).code, 13);

    await put(url, '/admin/behaviour', { respondWith: 'rules' });
    assert.equal(ruleTexts(await getRules(url)).length, 4);
  });

  test('delayMs delays the routing-rules response by at least that long', async (t) => {
    const url = await startStandIn(t, { initialState: TWO_SANDBOXES });
    const delayMs = 300;
    const set = await put(url, '/admin/behaviour', { delayMs });
    assert.deepEqual(set.json, { emptyRoutingRules: 'omit', delayMs, respondWith: 'rules', grpc: 'serve' });
    const started = performance.now();
    const reply = await getRules(url);
    const elapsed = performance.now() - started;
    assert.equal(ruleTexts(reply).length, 4);
    // 2 ms slack: Node rounds timer deadlines to whole milliseconds.
    assert.ok(elapsed >= delayMs - 2, `took ${elapsed.toFixed(1)} ms, expected >= ${delayMs}`);
  });

  test('close() does not wait for a long injected delay', { timeout: 10_000 }, async (t) => {
    const standIn = await createRouteserverStandIn({ host: '127.0.0.1', port: 0 });
    t.after(() => standIn.close()); // a no-op if the test closed it; frees the port if it failed early
    await put(standIn.url, '/admin/behaviour', { delayMs: 60_000 });
    const pending = getRules(standIn.url);
    await waitUntil(
      'the delayed request to arrive',
      async () => {
        const counter = (await call(standIn.url, 'GET', '/admin/requests')).json as { routingRules: number };
        return counter.routingRules === 1;
      },
      5_000,
    );
    const started = performance.now();
    await standIn.close();
    assert.equal((await pending).status, 200);
    assert.ok(performance.now() - started < 5_000);
  });

  test('the request counter counts routing-rules requests and resets', async (t) => {
    const url = await startStandIn(t);
    const count = async (): Promise<unknown> =>
      ((await call(url, 'GET', '/admin/requests')).json as { routingRules: number }).routingRules;
    assert.deepEqual((await call(url, 'GET', '/admin/requests')).json, {
      routingRules: 0,
      getWorkloadRoutingRules: 0,
      watchWorkloadRoutingRules: 0,
      activeWatches: 0,
    });
    await getRules(url);
    await getRules(url, { routingKey: 'x' });
    await put(url, '/admin/behaviour', { respondWith: 'http-500' });
    await getRules(url);
    await call(url, 'GET', '/admin/state'); // admin calls are not counted
    assert.equal(await count(), 3);
    assert.equal((await call(url, 'DELETE', '/admin/requests')).status, 204);
    assert.equal(await count(), 0);
    await getRules(url);
    assert.equal(await count(), 1);
  });

  test('reset empties the state and restores the default behaviour', async (t) => {
    const url = await startStandIn(t, { initialState: TWO_SANDBOXES });
    await put(url, '/admin/routegroups/team', { routingKey: 'kg', sandboxes: ['alpha'] });
    await put(url, '/admin/behaviour', {
      emptyRoutingRules: 'empty-array',
      respondWith: 'http-500',
      delayMs: 5,
    });
    assert.equal((await call(url, 'POST', '/admin/reset')).status, 204);
    assert.deepEqual((await call(url, 'GET', '/admin/state')).json, {
      sandboxes: {},
      routeGroups: {},
      behaviour: { emptyRoutingRules: 'omit', delayMs: 0, respondWith: 'rules', grpc: 'serve' },
    });
    const reply = await getRules(url);
    assert.equal(reply.status, 200);
    assert.equal(reply.text, '{}');
  });
});

describe('state file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'routeserver-standin-'));
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  test.after(() => rmSync(dir, { recursive: true, force: true }));

  test('loads JSON and serves its rules', async (t) => {
    const path = write('state.json', JSON.stringify(TWO_SANDBOXES));
    const state = loadStateFile(path);
    assert.deepEqual(state, TWO_SANDBOXES);
    const url = await startStandIn(t, { initialState: state });
    assert.equal(ruleTexts(await getRules(url)).length, 4);
  });

  test('loads YAML (.yaml and .yml); the example file is valid', async (t) => {
    const yml = write('state.yml', 'routeGroups:\n  team:\n    routingKey: kg\n    sandboxes: [alpha]\n');
    assert.deepEqual(loadStateFile(yml), {
      routeGroups: { team: { routingKey: 'kg', sandboxes: ['alpha'] } },
    });

    const url = await startStandIn(t, { initialState: loadStateFile(EXAMPLE_STATE) });
    const rules = ruleTexts(await getRules(url, { baselineNamespace: 'local', baselineName: 'worker' }));
    // Two sandboxes fork the worker, and the group has both: its rule goes to the first by name.
    assert.deepEqual(rules, [
      'alicekey0001 → alice-worker @ Deployment/local/worker',
      'bobkey000002 → bob-pipeline @ Deployment/local/worker',
      'teamkey00003 → alice-worker @ Deployment/local/worker',
    ]);
    assert.equal(ruleTexts(await getRules(url, { baselineName: 'ingress' })).length, 2);
  });

  test('a bad file is rejected with an error naming the file and the problem', () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        'kind.json',
        JSON.stringify({ sandboxes: { a: { routingKey: 'k', forks: [{ ...worker, kind: 'Pod' }] } } }),
        /kind/,
      ],
      ['name.json', JSON.stringify({ sandboxes: { '1a': { routingKey: 'k', forks: [worker] } } }), /"1a"/],
      ['extra.yaml', 'sandboxes: {}\nrules: []\n', /unknown property "rules"/],
      ['syntax.yaml', 'sandboxes: [unclosed\n', /cannot parse/],
      ['syntax.json', '{"sandboxes":', /cannot parse/],
      [
        'dup.json',
        JSON.stringify({
          sandboxes: { a: { routingKey: 'k', forks: [worker] } },
          routeGroups: { g: { routingKey: 'k', sandboxes: ['a'] } },
        }),
        /already used/,
      ],
    ];
    for (const [name, text, problem] of cases) {
      const path = write(name, text);
      assert.throws(
        () => loadStateFile(path),
        (error: Error) => error.message.includes(path) && problem.test(error.message),
        name,
      );
    }
    const missing = join(dir, 'missing.json');
    assert.throws(
      () => loadStateFile(missing),
      (error: Error) => error.message.includes(missing),
    );
  });
});

describe('CLI (main.js)', () => {
  test('serves on the given port with a state file and exits 0 on SIGTERM', { timeout: 20_000 }, async () => {
    const port = await freePort();
    const grpcPort = await freePort();
    const args = ['--port', String(port), '--grpc-port', String(grpcPort), '--state-file', EXAMPLE_STATE];
    const child = spawn(process.execPath, [MAIN_JS, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { output, done } = collect(child);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntil(
        'the stand-in to answer',
        async () => (await call(url, 'GET', '/admin/state')).status === 200,
      );
      assert.equal(ruleTexts(await getRules(url)).length, 5);
      await waitUntil('the start-up line', async () =>
        output().includes(`listening on ${url} (gRPC on 127.0.0.1:${grpcPort})`),
      );
    } finally {
      child.kill('SIGTERM');
    }
    const result = await done;
    assert.equal(result.signal, null, result.stderr);
    assert.equal(result.code, 0, result.stderr);
  });

  test('invalid options exit with code 2 and a message', { timeout: 20_000 }, async () => {
    const badPort = await collect(spawn(process.execPath, [MAIN_JS, '--port', 'http', '--grpc-port', '0']))
      .done;
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /--port/);
    const unknown = await collect(
      spawn(process.execPath, [MAIN_JS, '--port', '0', '--grpc-port', '0', '--colour']),
    ).done;
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--colour/);
    const missing = join(tmpdir(), 'no-such-routeserver-state.yaml');
    const badFile = await collect(
      spawn(process.execPath, [MAIN_JS, '--port', '0', '--grpc-port', '0', '--state-file', missing]),
    ).done;
    assert.equal(badFile.code, 2);
    assert.ok(badFile.stderr.includes(missing), badFile.stderr);
  });
});
