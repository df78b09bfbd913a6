import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RoutingDecisionEvent } from '@sandbox-routing/core';
import {
  Application,
  currentRoutingKey,
  RouteTable,
  type RoutingRule,
  runWithCarriedDecision,
  runWithRoutingKey,
} from '@sandbox-routing/core';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { activityRoutingInterceptors, type MismatchPolicy } from '../activity-interceptor';
import { RoutingClientInterceptor } from '../client-interceptor';
import { readRoutingDecision, withRoutingDecision } from '../headers';
import { routingKeyFromTemporalHeaders, withRoutingKeyHeader } from '../key-headers';

const WORKER = { kind: 'Deployment', namespace: 'local', name: 'worker' };
const SHARED = 'orders';

/** A route table fed by a fixed list of rules (no HTTP): interceptor logic alone. */
async function tableWith(rules: RoutingRule[]): Promise<RouteTable> {
  const table = new RouteTable({
    client: { getRoutingRules: async () => rules },
    baseline: WORKER,
    refreshIntervalMs: 60_000,
    unknownKeyRefetchIntervalMs: 60_000,
    firstSyncTimeoutMs: 1000,
  }).start();
  assert.ok(await table.waitForFirstSync());
  return table;
}

const rule = (routingKey: string, sandbox: string): RoutingRule => ({
  routingKey,
  baseline: WORKER,
  destinationSandbox: { name: sandbox },
});

type AnyInput = Record<string, unknown> & { headers?: Record<string, Payload> };

describe('client interceptor (plain objects)', () => {
  const options = (taskQueue: string) => ({ workflowId: 'wf-1', taskQueue, args: [] }) as never;

  it('adds the key to signal, signalWithStart and startUpdateWithStart', async () => {
    const seen: AnyInput[] = [];
    const next = async (input: unknown) => {
      seen.push(input as AnyInput);
      return 'ok' as never;
    };
    const client = new RoutingClientInterceptor();
    await runWithRoutingKey('k-signal', async () => {
      await client.signal(
        { signalName: 's', args: [], workflowExecution: { workflowId: 'w' }, headers: {} },
        next,
      );
      await client.signalWithStart(
        { workflowType: 't', signalName: 's', signalArgs: [], headers: {}, options: options(SHARED) },
        next,
      );
      await client.startUpdateWithStart(
        {
          workflowType: 't',
          workflowStartOptions: options(SHARED),
          workflowStartHeaders: {},
          updateName: 'u',
          updateArgs: [],
          updateOptions: {} as never,
          updateHeaders: {},
        },
        next,
      );
    });
    assert.equal(routingKeyFromTemporalHeaders(seen[0]?.headers)?.key, 'k-signal');
    assert.equal(routingKeyFromTemporalHeaders(seen[1]?.headers)?.key, 'k-signal');
    assert.equal(routingKeyFromTemporalHeaders(seen[2]?.workflowStartHeaders as never)?.key, 'k-signal');
    assert.equal(routingKeyFromTemporalHeaders(seen[2]?.updateHeaders as never)?.key, 'k-signal');
  });

  it('door-routes only starts aimed at the shared queue, marks them, and records search attributes', async () => {
    const table = await tableWith([rule('k-door', 'pr-7')]);
    const decisions: RoutingDecisionEvent[] = [];
    const client = new RoutingClientInterceptor({
      doorRouting: { routeTable: table, sharedQueue: SHARED },
      recordSearchAttributes: true,
      onDecision: (event) => decisions.push(event),
      routingKey: () => 'k-door',
    });
    let started: AnyInput = {};
    const next = async (input: unknown) => {
      started = input as AnyInput;
      return { runId: 'r', eagerlyStarted: false };
    };
    await client.startWithDetails({ workflowType: 't', headers: {}, options: options(SHARED) }, next);
    const placed = started.options as {
      taskQueue: string;
      typedSearchAttributes: { key: { name: string }; value: string }[];
    };
    assert.equal(placed.taskQueue, 'orders@pr-7');
    assert.equal(readRoutingDecision(started.headers), 'orders@pr-7');
    assert.deepEqual(
      placed.typedSearchAttributes.map((p) => [p.key.name, p.value]),
      [
        ['SignadotRoutingKey', 'k-door'],
        ['SignadotSandbox', 'pr-7'],
      ],
    );
    assert.deepEqual(
      decisions.map((d) => [d.component, d.owner, d.taskQueue]),
      [['client', 'pr-7', 'orders@pr-7']],
    );

    await client.startWithDetails({ workflowType: 't', headers: {}, options: options('other-queue') }, next);
    assert.equal(
      (started.options as { taskQueue: string }).taskQueue,
      'other-queue',
      'other queues are left alone',
    );
    assert.equal(readRoutingDecision(started.headers), undefined);
    await table.stop();
  });

  it('places a start by a decision carried with it, not by its table (decide once)', async () => {
    // The table says pr-new (the rules changed since); the decision, made earlier, says pr-old.
    const table = await tableWith([rule('k-moved', 'pr-new')]);
    const client = new RoutingClientInterceptor({ doorRouting: { routeTable: table, sharedQueue: SHARED } });
    const queues: (string | undefined)[] = [];
    const next = async (input: unknown) => {
      const started = input as AnyInput;
      queues.push((started.options as { taskQueue: string }).taskQueue, readRoutingDecision(started.headers));
      return { runId: 'r', eagerlyStarted: false };
    };
    const decision = (routingKey: string, workload = WORKER) => ({
      routingKey,
      owners: [{ workload, owner: { kind: 'sandbox' as const, sandboxName: 'pr-old' } }],
      decidedBy: 'baseline',
      decidedAt: '2026-01-01T00:00:00.000Z',
    });
    const start = () =>
      client.startWithDetails({ workflowType: 't', headers: {}, options: options(SHARED) }, next);
    await runWithCarriedDecision(decision('k-moved'), start);
    // A decision about another workload says nothing about this one: the table decides.
    await runWithCarriedDecision(decision('k-moved', { ...WORKER, name: 'payments' }), start);
    assert.deepEqual(queues, ['orders@pr-old', 'orders@pr-old', 'orders@pr-new', 'orders@pr-new']);
    await table.stop();
  });

  it("door-routes every queue an application declares by its workload's rules, and nothing else", async () => {
    const PAYMENTS = { ...WORKER, name: 'payments' };
    const application = new Application([
      { name: 'worker', baseline: WORKER, taskQueues: ['orders'], consumers: [] },
      { name: 'payments', baseline: PAYMENTS, taskQueues: ['payments'], consumers: [] },
    ]);
    const table = new RouteTable({
      client: {
        getRoutingRules: async () => [
          rule('k-app', 'pr-w'),
          { ...rule('k-app', 'pr-p'), baseline: PAYMENTS },
        ],
      },
      baseline: WORKER,
      alsoFor: [PAYMENTS],
      refreshIntervalMs: 60_000,
      unknownKeyRefetchIntervalMs: 60_000,
      firstSyncTimeoutMs: 1000,
    }).start();
    const client = new RoutingClientInterceptor({
      doorRouting: { application, routes: table },
      routingKey: () => 'k-app',
    });
    const placed: string[] = [];
    const next = async (input: unknown) => {
      placed.push((input as { options: { taskQueue: string } }).options.taskQueue);
      return { runId: 'r', eagerlyStarted: false };
    };
    for (const queue of ['orders', 'payments', 'payments@pr-x', 'someone-elses'])
      await client.startWithDetails({ workflowType: 't', headers: {}, options: options(queue) }, next);
    assert.deepEqual(placed, ['orders@pr-w', 'payments@pr-p', 'payments@pr-x', 'someone-elses']);
    await table.stop();
  });

  it('leaves keyless calls untouched', async () => {
    let started: AnyInput = {};
    await new RoutingClientInterceptor().startWithDetails(
      { workflowType: 't', headers: {}, options: options(SHARED) },
      async (input) => {
        started = input as unknown as AnyInput;
        return { runId: 'r', eagerlyStarted: false };
      },
    );
    assert.deepEqual(started.headers, {});
  });
});

describe('activity interceptor (plain objects)', () => {
  async function run(options: {
    sandboxName: string;
    headers: Record<string, Payload>;
    policy?: MismatchPolicy;
    isLocal?: boolean;
  }): Promise<{ decisions: RoutingDecisionEvent[]; ran: boolean; keyInside: string | undefined }> {
    const table = await tableWith([rule('k-act', 'pr-7')]);
    const decisions: RoutingDecisionEvent[] = [];
    const factory = activityRoutingInterceptors({
      identity: { baseline: WORKER, sandboxName: options.sandboxName },
      routeTable: table,
      sharedQueue: SHARED,
      mismatchPolicy: options.policy,
      onDecision: (event) => decisions.push(event),
    });
    const ctx = {
      info: {
        activityType: 'charge',
        isLocal: options.isLocal ?? false,
        workflowExecution: { workflowId: 'w', runId: 'r' },
      },
    };
    const { inbound } = factory(ctx as never);
    let ran = false;
    let keyInside: string | undefined;
    try {
      await inbound?.execute?.({ args: [], headers: options.headers }, async () => {
        ran = true;
        keyInside = currentRoutingKey();
        return undefined;
      });
    } finally {
      await table.stop();
    }
    return { decisions, ran, keyInside };
  }

  const keyed = (key: string, decided?: string) => {
    const headers = withRoutingKeyHeader({}, key);
    return decided ? withRoutingDecision(headers, decided) : headers;
  };

  it('runs an owned activity inside its routing key and counts it', async () => {
    const result = await run({ sandboxName: 'pr-7', headers: keyed('k-act', 'orders@pr-7') });
    assert.equal(result.ran, true);
    assert.equal(result.keyInside, 'k-act', 'activity code (and its outgoing calls) see the key');
    assert.deepEqual(
      result.decisions.map((d) => [d.action, d.owner]),
      [['owned', 'pr-7']],
    );
  });

  it('without a placement header asks the route table', async () => {
    const onBaseline = await run({ sandboxName: '', headers: keyed('k-act') });
    assert.deepEqual(
      onBaseline.decisions.map((d) => [d.action, d.owner]),
      [['mismatch', 'pr-7']],
    );
    const keyless = await run({ sandboxName: '', headers: {} });
    assert.deepEqual(
      keyless.decisions.map((d) => [d.action, d.owner]),
      [['owned', 'baseline']],
    );
  });

  it("policy 'log' runs a mismatched activity and reports it", async () => {
    const result = await run({ sandboxName: '', headers: keyed('k-act', 'orders@pr-7'), policy: 'log' });
    assert.equal(result.ran, true);
    assert.equal(result.decisions[0]?.action, 'mismatch');
  });

  it("policy 'retry' fails the attempt benignly and retriably, without running it", async () => {
    await assert.rejects(
      run({ sandboxName: '', headers: keyed('k-act', 'orders@pr-7'), policy: 'retry' }),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.type === 'SandboxRouteMismatch' &&
        error.nonRetryable === false &&
        error.category === 'BENIGN' &&
        error.nextRetryDelay === 100,
    );
  });

  it('does not check local activities (they run on their workflow’s worker)', async () => {
    const result = await run({
      sandboxName: '',
      headers: keyed('k-act', 'orders@pr-7'),
      policy: 'retry',
      isLocal: true,
    });
    assert.equal(result.ran, true);
    assert.deepEqual(result.decisions, []);
  });

  it('decision headers round-trip and reject garbage', () => {
    assert.equal(readRoutingDecision(withRoutingDecision({}, 'orders@pr-7')), 'orders@pr-7');
    assert.equal(
      readRoutingDecision({ 'sd-routed': { metadata: {}, data: new Uint8Array([1, 2]) } }),
      undefined,
    );
    assert.equal(readRoutingDecision({ 'sd-routed': defaultPayloadConverter.toPayload(42) }), undefined);
  });
});
