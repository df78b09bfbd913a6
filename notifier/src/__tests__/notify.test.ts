import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BASELINE_OWNER, type Owner, type WorkloadRoutes } from '@sandbox-routing/core';
import {
  DeadLetterPublisher,
  DecideOnceHandler,
  forwardTopicOf,
  SandboxForwarder,
} from '@sandbox-routing/kafka';
import {
  consumed,
  FakeAdmin,
  FakeSink,
  headers,
  silentLogger,
  testMetrics,
} from '@sandbox-routing/kafka/testing';
import type { TrailRecord } from '@sandbox-routing/trail';
import { type Notify, notifierProcessing } from '../notify';

const NOTIFIER = { kind: 'Deployment', namespace: 'local', name: 'notifier' };
const FORKED_KEY = 'kntfy42abcde';

function setup(options: { sandbox?: string; notify?: Notify } = {}) {
  const sink = new FakeSink();
  const admin = new FakeAdmin();
  const trail: TrailRecord[] = [];
  const notified: string[] = [];
  const routes: WorkloadRoutes = {
    baseline: NOTIFIER,
    synced: true,
    ownerOf: async (key): Promise<Owner> =>
      key === FORKED_KEY ? { kind: 'sandbox', sandboxName: 'pr-7' } : BASELINE_OWNER,
    peekOwner: () => undefined,
    waitForFirstSync: async () => true,
    stats: () => {
      throw new Error('not in these tests');
    },
  };
  const handler = new DecideOnceHandler({
    identity: { baseline: NOTIFIER, sandboxName: options.sandbox ?? '' },
    mode: options.sandbox
      ? { kind: 'process-all' }
      : {
          kind: 'decide',
          routes,
          forwarder: new SandboxForwarder({
            sink,
            admin,
            eventsTopic: 'events',
            consumerGroup: 'notifier',
            topicSpec: (topic) => ({ topic, partitions: 1, replicationFactor: 1, config: {} }),
            forksWorkload: async () => true,
            logger: silentLogger,
          }),
        },
    deadLetters: new DeadLetterPublisher(sink, 'events.dead-letter'),
    logger: silentLogger,
    metrics: testMetrics(),
    ...notifierProcessing({
      workload: 'notifier',
      group: 'notifier',
      instance: options.sandbox ?? 'baseline',
      maxEventBytes: 10_000,
      notify:
        options.notify ??
        (async ({ eventId }) => {
          notified.push(eventId);
        }),
      logger: silentLogger,
      trail: {
        emit: (record) => trail.push(record) > 0,
      },
    }),
  });
  return { handler, sink, trail, notified };
}

const keyed = (key: string) => headers(['baggage', `sd-routing-key=${key}`]);

describe('the notifier on the decide-once consumer', () => {
  it("forwards a forked key's event to the notifier's own forward topic and notifies the rest itself", async () => {
    const { handler, sink, trail, notified } = setup();
    const signal = new AbortController().signal;
    await handler.handle(consumed({ eventId: 'forked', headers: keyed(FORKED_KEY) }), signal);
    await handler.handle(consumed({ eventId: 'mine' }), signal);
    assert.deepEqual(notified, ['mine']);
    const forwarded = sink.of(forwardTopicOf('events', 'notifier', 'pr-7'));
    assert.equal(forwarded.length, 1);
    assert.deepEqual(
      trail.map((r) => r.kind === 'consumer.decided' && [r.eventId, r.action, r.owner, r.instance, r.detail]),
      [
        ['forked', 'forwarded', 'pr-7', 'baseline', 'events.notifier.sandbox.pr-7'],
        ['mine', 'processed', 'baseline', 'baseline', null],
      ],
    );
  });

  it('in a fork, notifies every event it reads and says so as its sandbox', async () => {
    const { handler, trail, notified } = setup({ sandbox: 'pr-7' });
    await handler.handle(
      consumed({ eventId: 'copy', headers: keyed(FORKED_KEY), topic: 'events.notifier.sandbox.pr-7' }),
      new AbortController().signal,
    );
    assert.deepEqual(notified, ['copy']);
    assert.equal(trail[0]?.instance, 'pr-7');
  });

  it('dead-letters an event that is not one, and backs off while notifications cannot be sent', async () => {
    const down = setup({
      notify: async () => {
        throw new Error('mail server away');
      },
    });
    const signal = new AbortController().signal;
    const retried = await down.handler.handle(consumed({ eventId: 'later' }), signal);
    assert.equal(retried.status, 'retry');
    assert.equal(down.trail.length, 0, 'nothing recorded until it is done');
    const bad = await down.handler.handle(consumed({ value: Buffer.from('not json') }), signal);
    assert.deepEqual(bad, { status: 'done', action: 'dead-lettered' });
    assert.equal(down.sink.of('events.dead-letter').length, 1);
    assert.equal(down.trail[0]?.kind === 'consumer.decided' && down.trail[0].action, 'dead-lettered');
  });
});
