import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BASELINE_OWNER,
  currentRoutingKey,
  type OwnershipDecision,
  parseTrailRecord,
  RouteserverUnavailableError,
  RouteTableNotSyncedError,
  type TrailRecord,
} from '@sandbox-routing/shared';
import { ServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Outcome } from '../consumer-loop';
import { DeadLetterPublisher } from '../dead-letter';
import { fenceRecord } from '../fence';
import { EventHandler, type HandlerMode } from '../handler';
import type { ConsumedRecord } from '../kafka/records';
import { BrokerError } from '../kafka/seam';
import { SandboxForwarder } from '../sandbox-topics';
import { consumed, FakeAdmin, FakeSink, FakeStarter, headers, silentLogger, testMetrics } from './fakes';

const SANDBOX_KEY = 'kpr42routing';
const WORKER_ONLY_KEY = 'kworkeronly1';

/** The ingress table of the tests: one sandbox forks the ingress; a worker-only sandbox is not in it. */
async function decideOwner(key: string | undefined): Promise<OwnershipDecision> {
  if (key === SANDBOX_KEY)
    return { owned: false, owner: { kind: 'sandbox', sandboxName: 'pr-42' }, reason: 'rule' };
  return { owned: true, owner: BASELINE_OWNER, reason: key ? 'no-rule' : 'no-key' };
}

interface Setup {
  handler: EventHandler;
  sink: FakeSink;
  admin: FakeAdmin;
  starter: FakeStarter;
  routeserverAsks: string[];
  sandboxes: Set<string>;
}

function setup(
  options: {
    sandboxName?: string;
    decide?: (key: string | undefined) => Promise<OwnershipDecision>;
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
    topicSpec: (topic) => ({ topic, partitions: 3, replicationFactor: 1, config: {} }),
    forksIngress: async (sandbox) => {
      routeserverAsks.push(sandbox);
      return sandboxes.has(sandbox);
    },
    logger: silentLogger,
  });
  const mode: HandlerMode = options.sandboxName
    ? { kind: 'process-all' }
    : { kind: 'decide', decideOwner: options.decide ?? decideOwner, forwarder };
  const handler = new EventHandler({
    identity: {
      baseline: { kind: 'Deployment', namespace: 'local', name: 'ingress' },
      sandboxName: options.sandboxName ?? '',
    },
    mode,
    starter,
    sharedTaskQueue: 'orders',
    deadLetters: new DeadLetterPublisher(sink, 'events.dead-letter'),
    maxEventBytes: 1024,
    logger: silentLogger,
    metrics: testMetrics(),
    ...(options.trail
      ? { trail: { emit: (record: TrailRecord) => options.trail?.push(record) !== undefined } }
      : {}),
  });
  return { handler, sink, admin, starter, routeserverAsks, sandboxes };
}

const live = () => new AbortController().signal;
const withKey = (key: string, extra: Partial<ConsumedRecord> = {}) =>
  consumed({ headers: headers(['baggage', `sd-routing-key=${key}`]), ...extra });
const grpc = (code: number) =>
  new ServiceError('Failed to start Workflow', {
    cause: Object.assign(new Error(`grpc ${code}`), { code, details: '', metadata: {} }),
  });

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
    assert.deepEqual(sink.of('events.sandbox.pr-42'), [
      { key: original.key, value: original.value, headers: original.headers, timestamp: original.timestamp },
    ]);
    assert.equal(starter.starts.length, 0, 'the fork starts it, not the baseline');
    assert.equal(admin.created, 1);
    await handler.handle(withKey(SANDBOX_KEY), live());
    assert.deepEqual(routeserverAsks, ['pr-42'], 'a known topic needs no second check');
    assert.equal(sink.of('events.sandbox.pr-42').length, 2);
  });

  it('starts the event itself when the fresh check says the sandbox is gone (a stale route snapshot)', async () => {
    const setupResult = setup();
    setupResult.sandboxes.clear();
    const outcome = await setupResult.handler.handle(withKey(SANDBOX_KEY), live());
    assert.deepEqual(outcome, { status: 'done', action: 'started' });
    assert.equal(setupResult.sink.of('events.sandbox.pr-42').length, 0);
    assert.equal(setupResult.admin.created, 0, 'no topic for a sandbox that does not exist');
  });

  it('retries later when ownership cannot be decided yet (route table not synced, routeserver away)', async () => {
    for (const error of [new RouteTableNotSyncedError(10_000), new RouteserverUnavailableError('down')]) {
      const { handler, starter } = setup({ decide: async () => Promise.reject(error) });
      const outcome = await handler.handle(withKey(SANDBOX_KEY), live());
      assert.equal(outcome.status, 'retry');
      assert.equal((outcome as Extract<Outcome, { status: 'retry' }>).operation, 'ownership');
      assert.equal(starter.starts.length, 0);
    }
    const skipping = setup({
      decide: async () => ({ owned: false, owner: undefined, reason: 'never-synced' }),
    });
    assert.equal(
      (await skipping.handler.handle(withKey(SANDBOX_KEY), live())).status,
      'retry',
      'never skips',
    );
  });

  it('retries a forward while the brokers are away, and dead-letters it when the sandbox topic refuses it', async () => {
    const { handler, sink } = setup();
    sink.failWith('events.sandbox.pr-42', new BrokerError('no broker', 'unavailable', true));
    const outcome = await handler.handle(withKey(SANDBOX_KEY), live());
    assert.equal(outcome.status, 'retry');
    sink.failWith('events.sandbox.pr-42', new BrokerError('too big', 'too-large', false));
    assert.deepEqual(await handler.handle(withKey(SANDBOX_KEY), live()), {
      status: 'done',
      action: 'dead-lettered',
    });
    assert.equal(deadLetterReason(sink), 'forward-failed');
  });

  it('asks the routeserver again after a forward found the topic deleted', async () => {
    const { handler, sink, routeserverAsks } = setup();
    await handler.handle(withKey(SANDBOX_KEY), live());
    sink.failWith('events.sandbox.pr-42', new BrokerError('gone', 'unknown-topic', true));
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

  it('retries while Temporal is unavailable, dead-letters what Temporal refuses for good', async () => {
    const { handler, starter, sink } = setup();
    starter.next.push(async () => Promise.reject(grpc(14)));
    const unavailable = await handler.handle(consumed(), live());
    assert.equal(unavailable.status, 'retry');
    assert.equal((unavailable as Extract<Outcome, { status: 'retry' }>).operation, 'workflow start');
    starter.next.push(async () => Promise.reject(grpc(3)));
    assert.deepEqual(await handler.handle(consumed(), live()), { status: 'done', action: 'dead-lettered' });
    assert.equal(deadLetterReason(sink), 'start-rejected');
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

  it('skips control records (fence markers the baseline forwarded)', async () => {
    const { handler, starter } = setup({ sandboxName: 'pr-42' });
    const marker = {
      ...fenceRecord({ sandbox: 'pr-42', fenceId: 'f1', partition: 0 }),
      topic: 'events.sandbox.pr-42',
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
    const topic = sink.of('events.sandbox.pr-42');
    assert.equal(topic.length, 2);
    assert.deepEqual(topic[1]?.headers, marker().headers);
    // A route snapshot that still says pr-42: the retired sandbox is checked again, and found gone.
    assert.deepEqual(await handler.handle(withKey(SANDBOX_KEY), live()), {
      status: 'done',
      action: 'started',
    });
    assert.equal(sink.of('events.sandbox.pr-42').length, 2, 'nothing forwarded after the fence');
    assert.equal(starter.starts.length, 1);
    assert.deepEqual(routeserverAsks, ['pr-42', 'pr-42', 'pr-42']);
  });

  it('does not fence a sandbox that exists (again), and has nothing to fence without a topic', async () => {
    const existing = setup();
    await existing.handler.handle(withKey(SANDBOX_KEY), live());
    assert.deepEqual(await existing.handler.handle(marker(), live()), { status: 'done', action: 'fenced' });
    assert.equal(
      existing.sink.of('events.sandbox.pr-42').length,
      1,
      'marker not forwarded: the sandbox exists',
    );

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
      topicSpec: (topic) => ({ topic, partitions: 1, replicationFactor: 1, config: {} }),
      forksIngress: async () => Promise.reject(new RouteserverUnavailableError('down')),
      logger: silentLogger,
    });
    const away = new EventHandler({
      identity: { baseline: { kind: 'Deployment', namespace: 'local', name: 'ingress' }, sandboxName: '' },
      mode: { kind: 'decide', decideOwner, forwarder },
      starter: new FakeStarter(),
      sharedTaskQueue: 'orders',
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
        ['forwarded', 'd-2', 'pr-42', 'evt-d-2', 'events.sandbox.pr-42', 'baseline'],
        ['duplicate', 'd-1', 'baseline', 'evt-d-1', null, 'baseline'],
        ['dead-lettered', null, null, null, 'not-json', 'baseline'],
      ],
    );
    const first = trail[0];
    assert.ok(first?.kind === 'ingress.decided');
    assert.deepEqual(
      [first.topic, first.partition, first.offset, first.routingKey],
      ['events', 1, '7', null],
    );
    assert.equal(trail[1]?.routingKey, SANDBOX_KEY);
    assert.deepEqual(
      trail.map((r) => parseTrailRecord(JSON.stringify(r)).ok),
      [true, true, true, true],
      'every record is valid against the trail schema',
    );
  });
});
