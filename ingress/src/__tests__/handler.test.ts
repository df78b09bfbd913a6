import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BASELINE_OWNER,
  CARRIED_DECISION_HEADER,
  currentCarriedDecision,
  currentRoutingKey,
  formatCarriedDecision,
  type Owner,
  parseCarriedDecision,
  RouteserverUnavailableError,
  RouteTableNotSyncedError,
  type WorkloadRoutes,
} from '@sandbox-routing/core';
import {
  BrokerError,
  type ConsumedRecord,
  DeadLetterPublisher,
  type DecideOnceHandler,
  type DecideOnceMode,
  fenceRecord,
  forwardTopicOf,
  type Outcome,
  SandboxForwarder,
} from '@sandbox-routing/kafka';
import { parseTrailRecord, type TrailRecord } from '@sandbox-routing/trail';
import { ServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { createEventHandler } from '../handler';
import type { IngressMetrics } from '../metrics';
import { consumed, FakeAdmin, FakeSink, FakeStarter, headers, silentLogger, testMetrics } from './fakes';

const SANDBOX_KEY = 'kpr42routing';
/** Where the baseline forwards pr-42's events. */
const PR42_TOPIC = forwardTopicOf('events', 'ingress', 'pr-42');
const WORKER_ONLY_KEY = 'kworkeronly1';

/** The ingress table of the tests: one sandbox forks the ingress; a worker-only sandbox is not in it. */
async function ingressOwner(key: string | undefined): Promise<Owner> {
  return key === SANDBOX_KEY ? { kind: 'sandbox', sandboxName: 'pr-42' } : BASELINE_OWNER;
}

/** Routes of a workload answering with `ownerOf` (what a route table view gives). */
function routes(
  baseline: typeof INGRESS,
  ownerOf: (key: string | undefined) => Promise<Owner>,
): WorkloadRoutes {
  return {
    baseline,
    synced: true,
    ownerOf,
    peekOwner: () => undefined,
    waitForFirstSync: async () => true,
    stats: () => {
      throw new Error('not in these tests');
    },
  };
}

const INGRESS = { kind: 'Deployment', namespace: 'local', name: 'ingress' };
const WORKER = { kind: 'Deployment', namespace: 'local', name: 'worker' };

/** The worker table of the tests: the sandbox forks the worker too; the worker-only key has a fork of its own. */
async function workerOwner(key: string): Promise<Owner> {
  if (key === SANDBOX_KEY) return { kind: 'sandbox', sandboxName: 'pr-42' };
  if (key === WORKER_ONLY_KEY) return { kind: 'sandbox', sandboxName: 'pr-w' };
  return BASELINE_OWNER;
}

interface Setup {
  handler: DecideOnceHandler;
  metrics: IngressMetrics;
  sink: FakeSink;
  admin: FakeAdmin;
  starter: FakeStarter;
  routeserverAsks: string[];
  sandboxes: Set<string>;
}

function setup(
  options: {
    sandboxName?: string;
    ingressOwner?: (key: string | undefined) => Promise<Owner>;
    neverSyncedPolicy?: 'own-nothing';
    workerOwner?: (key: string) => Promise<Owner>;
    trail?: TrailRecord[];
  } = {},
): Setup {
  const sink = new FakeSink();
  const admin = new FakeAdmin();
  const starter = new FakeStarter();
  const routeserverAsks: string[] = [];
  const sandboxes = new Set(['pr-42']);
  const forwarder = new SandboxForwarder({
    sink,
    admin,
    eventsTopic: 'events',
    consumerGroup: 'ingress',
    topicSpec: (topic) => ({ topic, partitions: 3, replicationFactor: 1, config: {} }),
    forksWorkload: async (sandbox) => {
      routeserverAsks.push(sandbox);
      return sandboxes.has(sandbox);
    },
    logger: silentLogger,
  });
  const metrics = testMetrics();
  const mode: DecideOnceMode = options.sandboxName
    ? { kind: 'process-all' }
    : {
        kind: 'decide',
        routes: routes(INGRESS, options.ingressOwner ?? ingressOwner),
        alsoDecide: [routes(WORKER, async (key) => (options.workerOwner ?? workerOwner)(key ?? ''))],
        neverSyncedPolicy: options.neverSyncedPolicy,
        forwarder,
      };
  const handler = createEventHandler({
    identity: { baseline: INGRESS, sandboxName: options.sandboxName ?? '' },
    mode,
    starter,
    sharedTaskQueue: 'orders',
    workerBaseline: WORKER,
    deadLetters: new DeadLetterPublisher(sink, 'events.dead-letter'),
    maxEventBytes: 1024,
    logger: silentLogger,
    metrics,
    ...(options.trail
      ? { trail: { emit: (record: TrailRecord) => options.trail?.push(record) !== undefined } }
      : {}),
  });
  return { handler, metrics, sink, admin, starter, routeserverAsks, sandboxes };
}

const live = () => new AbortController().signal;
const withKey = (key: string, extra: Partial<ConsumedRecord> = {}) =>
  consumed({ headers: headers(['baggage', `sd-routing-key=${key}`]), ...extra });
const grpc = (code: number, details = '') =>
  new ServiceError('Failed to start Workflow', {
    cause: Object.assign(new Error(`grpc ${code}`), { code, details, metadata: {} }),
  });

function deadLetterHeader(sink: FakeSink, name: string, index = 0): string | undefined {
  return sink
    .of('events.dead-letter')
    [index]?.headers.find((h) => h.name === name)
    ?.value?.toString();
}

/** The `sandbox_routing_ingress_events_total` samples by action. */
async function eventsByAction(metrics: IngressMetrics): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const sample of (await metrics.events.get()).values) {
    const action = String(sample.labels.action);
    counts[action] = (counts[action] ?? 0) + sample.value;
  }
  return counts;
}

function deadLetterReason(sink: FakeSink, index = 0): string | undefined {
  return sink
    .of('events.dead-letter')
    [index]?.headers.find((h) => h.name === 'dead-letter-reason')
    ?.value?.toString();
}

describe('EventHandler on the baseline (deciding)', () => {
  it('starts an event without a key itself, on the shared queue, with its workflow id', async () => {
    const { handler, starter } = setup();
    const outcome = await handler.handle(consumed({ eventId: 'a-1' }), live());
    assert.deepEqual(outcome, { status: 'done', action: 'started' });
    assert.deepEqual(starter.starts, [
      { workflowType: 'processOrder', workflowId: 'evt-a-1', taskQueue: 'orders' },
    ]);
  });

  it('starts a key the ingress table does not give to a sandbox (e.g. a worker-only fork) in its routing-key context', async () => {
    const { handler, starter } = setup();
    let keyAtStart: string | undefined;
    starter.next.push(async () => {
      keyAtStart = currentRoutingKey();
      return 'run-1';
    });
    const outcome = await handler.handle(withKey(WORKER_ONLY_KEY), live());
    assert.equal(outcome.status, 'done');
    assert.equal(keyAtStart, WORKER_ONLY_KEY, 'door routing sees the key');
  });

  it("forwards a sandbox's event byte for byte to its topic, created on first use after a fresh check", async () => {
    const { handler, sink, admin, starter, routeserverAsks } = setup();
    const original = withKey(SANDBOX_KEY, {
      key: Buffer.from([0xff, 0x00]),
      headers: headers(
        ['baggage', `sd-routing-key=${SANDBOX_KEY}`],
        ['baggage', ' user = bob '],
        ['x-bin', Buffer.from([0xc3, 0x28])],
      ),
      timestamp: '1700000000123',
    });
    assert.deepEqual(await handler.handle(original, live()), { status: 'done', action: 'forwarded' });
    const [copy] = sink.of(PR42_TOPIC);
    assert.ok(copy);
    // Byte for byte, plus one header: the decision, which the fork honours.
    assert.deepEqual(
      { ...copy, headers: copy.headers.slice(0, -1) },
      { key: original.key, value: original.value, headers: original.headers, timestamp: original.timestamp },
    );
    assert.equal(copy.headers.at(-1)?.name, CARRIED_DECISION_HEADER);
    const decision = parseCarriedDecision(copy.headers.at(-1)?.value?.toString());
    assert.deepEqual(
      decision && { key: decision.routingKey, owners: decision.owners, by: decision.decidedBy },
      {
        key: SANDBOX_KEY,
        owners: [
          { workload: INGRESS, owner: { kind: 'sandbox', sandboxName: 'pr-42' } },
          { workload: WORKER, owner: { kind: 'sandbox', sandboxName: 'pr-42' } },
        ],
        by: 'baseline',
      },
    );
    assert.equal(starter.starts.length, 0, 'the fork starts it, not the baseline');
    assert.equal(admin.created, 1);
    await handler.handle(withKey(SANDBOX_KEY), live());
    assert.deepEqual(routeserverAsks, ['pr-42'], 'a known topic needs no second check');
    assert.equal(sink.of(PR42_TOPIC).length, 2);
  });

  it('never takes a decision from the events topic: a header there is replaced by its own', async () => {
    const { handler, sink } = setup();
    const forged = formatCarriedDecision({
      routingKey: SANDBOX_KEY,
      owners: [{ workload: WORKER, owner: BASELINE_OWNER }],
      decidedBy: 'someone',
      decidedAt: '2026-01-01T00:00:00Z',
    });
    await handler.handle(
      consumed({
        headers: headers(['baggage', `sd-routing-key=${SANDBOX_KEY}`], [CARRIED_DECISION_HEADER, forged]),
      }),
      live(),
    );
    const [copy] = sink.of(PR42_TOPIC);
    const carried = copy?.headers.filter((h) => h.name === CARRIED_DECISION_HEADER) ?? [];
    assert.equal(carried.length, 1);
    assert.equal(parseCarriedDecision(carried[0]?.value?.toString())?.decidedBy, 'baseline');
  });

  it('starts what it owns inside its decision, naming the worker owner it chose', async () => {
    const { handler, starter } = setup();
    let carried: ReturnType<typeof currentCarriedDecision>;
    starter.next.push(async () => {
      carried = currentCarriedDecision();
      return 'run-1';
    });
    await handler.handle(withKey(WORKER_ONLY_KEY), live());
    assert.deepEqual(carried?.owners, [
      { workload: INGRESS, owner: BASELINE_OWNER },
      { workload: WORKER, owner: { kind: 'sandbox', sandboxName: 'pr-w' } },
    ]);
  });

  it('starts the event itself when the fresh check says the sandbox is gone (a stale route snapshot)', async () => {
    const setupResult = setup();
    setupResult.sandboxes.clear();
    const outcome = await setupResult.handler.handle(withKey(SANDBOX_KEY), live());
    assert.deepEqual(outcome, { status: 'done', action: 'started' });
    assert.equal(setupResult.sink.of(PR42_TOPIC).length, 0);
    assert.equal(setupResult.admin.created, 0, 'no topic for a sandbox that does not exist');
  });

  it('retries later when ownership cannot be decided yet (route table not synced, routeserver away)', async () => {
    for (const error of [new RouteTableNotSyncedError(10_000), new RouteserverUnavailableError('down')]) {
      const { handler, starter } = setup({ ingressOwner: async () => Promise.reject(error) });
      const outcome = await handler.handle(withKey(SANDBOX_KEY), live());
      assert.equal(outcome.status, 'retry');
      assert.equal((outcome as Extract<Outcome, { status: 'retry' }>).operation, 'ownership');
      assert.equal(starter.starts.length, 0);
    }
    // A policy that would skip before the first sync: the deciding ingress waits instead.
    const skipping = setup({
      ingressOwner: async () => Promise.reject(new RouteTableNotSyncedError(10)),
      neverSyncedPolicy: 'own-nothing',
    });
    assert.equal(
      (await skipping.handler.handle(withKey(SANDBOX_KEY), live())).status,
      'retry',
      'never skips',
    );
  });

  it('retries a forward while the brokers are away, and dead-letters it when the sandbox topic refuses it', async () => {
    const { handler, sink } = setup();
    sink.failWith(PR42_TOPIC, new BrokerError('no broker', 'unavailable', true));
    const outcome = await handler.handle(withKey(SANDBOX_KEY), live());
    assert.equal(outcome.status, 'retry');
    sink.failWith(PR42_TOPIC, new BrokerError('too big', 'too-large', false));
    assert.deepEqual(await handler.handle(withKey(SANDBOX_KEY), live()), {
      status: 'done',
      action: 'dead-lettered',
    });
    assert.equal(deadLetterReason(sink), 'forward-failed');
  });

  it('asks the routeserver again after a forward found the topic deleted', async () => {
    const { handler, sink, routeserverAsks } = setup();
    await handler.handle(withKey(SANDBOX_KEY), live());
    sink.failWith(PR42_TOPIC, new BrokerError('gone', 'unknown-topic', true));
    assert.equal((await handler.handle(withKey(SANDBOX_KEY), live())).status, 'retry');
    await handler.handle(withKey(SANDBOX_KEY), live());
    assert.deepEqual(routeserverAsks, ['pr-42', 'pr-42']);
  });
});

describe('EventHandler: validation, starts and dead letters', () => {
  it('dead-letters what it cannot read, with the reason, and the original bytes', async () => {
    const cases: [ConsumedRecord, string][] = [
      [consumed({ headers: headers(['baggage', 'sd-routing-key=bad key!']) }), 'bad-headers'],
      [consumed({ value: Buffer.from('not json {') }), 'not-json'],
      [consumed({ value: Buffer.from(JSON.stringify({ id: 'x', type: 'order.created' })) }), 'schema'],
      [consumed({ value: Buffer.from(`{"pad":"${'x'.repeat(2000)}"}`) }), 'oversized'],
      [
        consumed({
          value: Buffer.from(
            JSON.stringify({ id: 'x', type: 'invoice.paid', time: '2026-01-01T00:00:00Z', payload: {} }),
          ),
        }),
        'unknown-type',
      ],
    ];
    for (const [record, reason] of cases) {
      const { handler, sink, starter } = setup();
      assert.deepEqual(
        await handler.handle(record, live()),
        { status: 'done', action: 'dead-lettered' },
        reason,
      );
      assert.equal(deadLetterReason(sink), reason);
      const copy = sink.of('events.dead-letter')[0];
      assert.deepEqual(copy?.value, record.value);
      assert.deepEqual(copy?.headers.slice(0, record.headers.length), record.headers);
      assert.equal(starter.starts.length, 0);
    }
  });

  it('counts a start Temporal already has as done (a redelivery)', async () => {
    const { handler, starter } = setup();
    starter.next.push(async () => {
      throw new WorkflowExecutionAlreadyStartedError('started', 'evt-1', 'processOrder');
    });
    assert.deepEqual(await handler.handle(consumed(), live()), { status: 'done', action: 'duplicate' });
  });

  it('retries while Temporal is unavailable, dead-letters what Temporal refuses for good, saying which answer it was', async () => {
    const { handler, starter, sink } = setup();
    starter.next.push(async () => Promise.reject(grpc(14)));
    const unavailable = await handler.handle(consumed(), live());
    assert.equal(unavailable.status, 'retry');
    assert.equal((unavailable as Extract<Outcome, { status: 'retry' }>).operation, 'workflow start');
    assert.match((unavailable as Extract<Outcome, { status: 'retry' }>).error.message, /UNAVAILABLE \(14\)/);
    starter.next.push(async () =>
      Promise.reject(grpc(3, 'search attribute SignadotRoutingKey is not defined')),
    );
    assert.deepEqual(await handler.handle(consumed(), live()), { status: 'done', action: 'dead-lettered' });
    assert.equal(deadLetterReason(sink), 'start-rejected');
    assert.equal(deadLetterHeader(sink, 'dead-letter-grpc-code'), '3');
    assert.equal(deadLetterHeader(sink, 'dead-letter-grpc-code-name'), 'INVALID_ARGUMENT');
    assert.equal(
      deadLetterHeader(sink, 'dead-letter-grpc-message'),
      'search attribute SignadotRoutingKey is not defined',
    );
    assert.match(deadLetterHeader(sink, 'dead-letter-detail') ?? '', /INVALID_ARGUMENT \(3\)/);
  });

  it('retries a start that timed out or was cancelled, or failed without a status, instead of dead-lettering it', async () => {
    for (const error of [
      grpc(4, 'Deadline exceeded after 5.001s'),
      grpc(1, 'Received RST_STREAM with code 8 (Call cancelled)'),
      new ServiceError('Unexpected error while making gRPC request', { cause: new Error('socket hang up') }),
    ]) {
      const { handler, starter, sink } = setup();
      starter.next.push(async () => Promise.reject(error));
      const outcome = await handler.handle(consumed(), live());
      assert.equal(outcome.status, 'retry', error.message);
      assert.equal(sink.of('events.dead-letter').length, 0);
    }
  });

  it("records a retry that finds the workflow started after an uncertain attempt as this delivery's start, not a duplicate", async () => {
    const trail: TrailRecord[] = [];
    const { handler, starter, metrics } = setup({ trail });
    const record = consumed({ eventId: 'slow-1' });
    // The first attempt ran into its deadline (the server may have started it meanwhile) …
    starter.next.push(async () => Promise.reject(grpc(4, 'Deadline exceeded after 5.001s')));
    assert.equal((await handler.handle(record, live())).status, 'retry');
    // … the redelivery after the back-off finds it started: that was most likely its own start.
    starter.next.push(async () => {
      throw new WorkflowExecutionAlreadyStartedError('started', 'evt-slow-1', 'processOrder');
    });
    assert.deepEqual(await handler.handle(record, live()), { status: 'done', action: 'started' });
    // Another delivery of an event that was started before (no uncertain attempt here) is a duplicate.
    starter.next.push(async () => {
      throw new WorkflowExecutionAlreadyStartedError('started', 'evt-slow-1', 'processOrder');
    });
    assert.deepEqual(await handler.handle(consumed({ eventId: 'slow-1' }), live()), {
      status: 'done',
      action: 'duplicate',
    });
    assert.deepEqual(
      trail.map((r) => (r.kind === 'ingress.decided' ? [r.action, r.workflowId] : [])),
      [
        ['started', 'evt-slow-1'],
        ['duplicate', 'evt-slow-1'],
      ],
    );
    assert.deepEqual(await eventsByAction(metrics), { started: 1, duplicate: 1 });
  });

  it('leaves the record alone when shutdown interrupts the start', async () => {
    const { handler, starter } = setup();
    const abort = new AbortController();
    starter.next.push(async () => {
      abort.abort(new Error('stopping'));
      throw abort.signal.reason;
    });
    assert.deepEqual(await handler.handle(consumed(), abort.signal), { status: 'stopped' });
  });

  it('retries a dead-letter write while the brokers are away; a topic that refuses it stops the service', async () => {
    const { handler, sink } = setup();
    sink.failWith('events.dead-letter', new BrokerError('no broker', 'unavailable', true));
    assert.equal((await handler.handle(consumed({ value: Buffer.from('nope') }), live())).status, 'retry');
    sink.failWith('events.dead-letter', new BrokerError('denied', 'not-authorized', false));
    await assert.rejects(
      handler.handle(consumed({ value: Buffer.from('nope') }), live()),
      /DeadLetterRefused|cannot write/,
    );
  });
});

describe('EventHandler in a fork (process-all)', () => {
  it('starts every event of its topic, sandbox keys included, without deciding again', async () => {
    const { handler, starter, sink } = setup({ sandboxName: 'pr-42' });
    assert.deepEqual(await handler.handle(withKey(SANDBOX_KEY), live()), {
      status: 'done',
      action: 'started',
    });
    assert.equal(starter.starts.length, 1);
    assert.equal(sink.written.size, 0, 'nothing forwarded');
  });

  it("honours the baseline's decision: the start runs inside it, and the trail record repeats it", async () => {
    const trail: TrailRecord[] = [];
    const { handler, starter } = setup({ sandboxName: 'pr-42', trail });
    const decision = {
      routingKey: SANDBOX_KEY,
      owners: [
        { workload: INGRESS, owner: { kind: 'sandbox', sandboxName: 'pr-42' } as Owner },
        { workload: WORKER, owner: { kind: 'sandbox', sandboxName: 'pr-42' } as Owner },
      ],
      decidedBy: 'baseline',
      decidedAt: '2026-01-01T00:00:00.000Z',
    };
    let carried: ReturnType<typeof currentCarriedDecision>;
    starter.next.push(async () => {
      carried = currentCarriedDecision();
      return 'run-1';
    });
    const forwarded = consumed({
      topic: PR42_TOPIC,
      headers: headers(
        ['baggage', `sd-routing-key=${SANDBOX_KEY}`],
        [CARRIED_DECISION_HEADER, formatCarriedDecision(decision)],
      ),
    });
    await handler.handle(forwarded, live());
    assert.deepEqual(carried, decision);
    const record = trail[0];
    assert.ok(record?.kind === 'ingress.decided');
    assert.deepEqual(record.decided, { ingress: 'pr-42', worker: 'pr-42' });
    assert.equal(parseTrailRecord(JSON.stringify(record)).ok, true);
  });

  it('decides again (door routing) for a record without a decision, or with one for another key', async () => {
    const { handler, starter } = setup({ sandboxName: 'pr-42' });
    const seen: unknown[] = [];
    const capture = async () => {
      seen.push(currentCarriedDecision());
      return 'run';
    };
    starter.next.push(capture, capture);
    await handler.handle(withKey(SANDBOX_KEY), live());
    const other = formatCarriedDecision({
      routingKey: 'kanotherkey1',
      owners: [{ workload: WORKER, owner: BASELINE_OWNER }],
      decidedBy: 'baseline',
      decidedAt: '2026-01-01T00:00:00.000Z',
    });
    await handler.handle(
      consumed({
        headers: headers(['baggage', `sd-routing-key=${SANDBOX_KEY}`], [CARRIED_DECISION_HEADER, other]),
      }),
      live(),
    );
    assert.deepEqual(seen, [undefined, undefined]);
  });

  it('skips control records (fence markers the baseline forwarded)', async () => {
    const { handler, starter } = setup({ sandboxName: 'pr-42' });
    const marker = {
      ...fenceRecord({ sandbox: 'pr-42', fenceId: 'f1', partition: 0 }),
      topic: PR42_TOPIC,
      offset: '9',
    };
    assert.deepEqual(await handler.handle(marker, live()), { status: 'done', action: 'skipped' });
    assert.equal(starter.starts.length, 0);
  });
});

describe('EventHandler: fences of a sandbox teardown', () => {
  const marker = (partition = 0) => ({
    ...fenceRecord({ sandbox: 'pr-42', fenceId: 'f1', partition }),
    topic: 'events',
    offset: '100',
  });

  it('forwards the marker once the routeserver confirms the sandbox is gone, and stops forwarding to it', async () => {
    const { handler, sink, sandboxes, routeserverAsks, starter } = setup();
    await handler.handle(withKey(SANDBOX_KEY), live()); // the topic exists
    sandboxes.clear();
    assert.deepEqual(await handler.handle(marker(), live()), { status: 'done', action: 'fenced' });
    const topic = sink.of(PR42_TOPIC);
    assert.equal(topic.length, 2);
    assert.deepEqual(topic[1]?.headers, marker().headers);
    // A route snapshot that still says pr-42: the retired sandbox is checked again, and found gone.
    assert.deepEqual(await handler.handle(withKey(SANDBOX_KEY), live()), {
      status: 'done',
      action: 'started',
    });
    assert.equal(sink.of(PR42_TOPIC).length, 2, 'nothing forwarded after the fence');
    assert.equal(starter.starts.length, 1);
    assert.deepEqual(routeserverAsks, ['pr-42', 'pr-42', 'pr-42']);
  });

  it('does not fence a sandbox that exists (again), and has nothing to fence without a topic', async () => {
    const existing = setup();
    await existing.handler.handle(withKey(SANDBOX_KEY), live());
    assert.deepEqual(await existing.handler.handle(marker(), live()), { status: 'done', action: 'fenced' });
    assert.equal(existing.sink.of(PR42_TOPIC).length, 1, 'marker not forwarded: the sandbox exists');

    const noTopic = setup();
    noTopic.sandboxes.clear();
    assert.deepEqual(await noTopic.handler.handle(marker(), live()), { status: 'done', action: 'fenced' });
    assert.equal(noTopic.sink.written.size, 0);
  });

  it('retries a fence while the routeserver is away', async () => {
    const forwarder = new SandboxForwarder({
      sink: new FakeSink(),
      admin: new FakeAdmin(),
      eventsTopic: 'events',
      consumerGroup: 'ingress',
      topicSpec: (topic) => ({ topic, partitions: 1, replicationFactor: 1, config: {} }),
      forksWorkload: async () => Promise.reject(new RouteserverUnavailableError('down')),
      logger: silentLogger,
    });
    const away = createEventHandler({
      identity: { baseline: INGRESS, sandboxName: '' },
      mode: { kind: 'decide', routes: routes(INGRESS, ingressOwner), forwarder },
      starter: new FakeStarter(),
      sharedTaskQueue: 'orders',
      workerBaseline: WORKER,
      deadLetters: new DeadLetterPublisher(new FakeSink(), 'dlq'),
      maxEventBytes: 1024,
      logger: silentLogger,
      metrics: testMetrics(),
    });
    assert.equal((await away.handle(marker(), live())).status, 'retry');
  });
});

describe('EventHandler: the ingress.decided trail record', () => {
  it('says what it did with each event, naming the owner and its workflow, also for a forward', async () => {
    const trail: TrailRecord[] = [];
    const { handler, starter } = setup({ trail });
    await handler.handle(consumed({ eventId: 'd-1', partition: 1, offset: '7' }), live());
    await handler.handle(
      consumed({ eventId: 'd-2', headers: headers(['baggage', `sd-routing-key=${SANDBOX_KEY}`]) }),
      live(),
    );
    starter.next.push(async () => {
      throw new WorkflowExecutionAlreadyStartedError('started', 'evt-d-1', 'processOrder');
    });
    await handler.handle(consumed({ eventId: 'd-1' }), live());
    await handler.handle(consumed({ value: Buffer.from('not json') }), live());
    assert.deepEqual(
      trail.map((r) =>
        r.kind === 'ingress.decided'
          ? [r.action, r.eventId, r.owner, r.workflowId, r.detail, r.instance]
          : ['not a decision'],
      ),
      [
        ['started', 'd-1', 'baseline', 'evt-d-1', null, 'baseline'],
        ['forwarded', 'd-2', 'pr-42', 'evt-d-2', PR42_TOPIC, 'baseline'],
        ['duplicate', 'd-1', 'baseline', 'evt-d-1', null, 'baseline'],
        ['dead-lettered', null, 'baseline', null, 'not-json', 'baseline'],
      ],
    );
    const first = trail[0];
    assert.ok(first?.kind === 'ingress.decided');
    assert.deepEqual(
      [first.topic, first.partition, first.offset, first.routingKey],
      ['events', 1, '7', null],
    );
    assert.equal(trail[1]?.routingKey, SANDBOX_KEY);
    // The owners decided once, which readers judge the event's work by.
    const both = (owner: string) => ({ ingress: owner, worker: owner });
    assert.deepEqual(
      trail.map((r) => (r.kind === 'ingress.decided' ? r.decided : 'not a decision')),
      [both('baseline'), both('pr-42'), both('baseline'), both('baseline')],
    );
    assert.deepEqual(
      trail.map((r) => parseTrailRecord(JSON.stringify(r)).ok),
      [true, true, true, true],
      'every record is valid against the trail schema',
    );
  });
});
