import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BASELINE_OWNER, type Owner, type WorkloadRoutes } from '@sandbox-routing/core';
import { DeadLetterPublisher } from '../dead-letter';
import { DecideOnceHandler } from '../decide-once';
import { fenceRecord, RETURNED_FOR_HEADER } from '../fence';
import { SandboxForwarder } from '../forward-topics';
import { withHeader } from '../records';
import { consumed, FakeAdmin, FakeSink, silentLogger, testMetrics } from '../testing';

const NOTIFIER = { kind: 'Deployment', namespace: 'local', name: 'notifier' };

/** The notifier's baseline handler in group `notifier`: what it processed, what it forwarded or fenced. */
function notifierBaseline() {
  const sink = new FakeSink();
  const admin = new FakeAdmin();
  const processed: string[] = [];
  const fencesAsked: string[] = [];
  const routes: WorkloadRoutes = {
    baseline: NOTIFIER,
    synced: true,
    ownerOf: async (): Promise<Owner> => BASELINE_OWNER,
    peekOwner: () => undefined,
    waitForFirstSync: async () => true,
    stats: () => {
      throw new Error('not in these tests');
    },
  };
  const forwarder = new SandboxForwarder({
    sink,
    admin,
    eventsTopic: 'events',
    consumerGroup: 'notifier',
    topicSpec: (topic) => ({ topic, partitions: 1, replicationFactor: 1, config: {} }),
    forksWorkload: async (sandbox) => {
      fencesAsked.push(sandbox);
      return false;
    },
    logger: silentLogger,
  });
  const handler = new DecideOnceHandler({
    identity: { baseline: NOTIFIER, sandboxName: '' },
    group: 'notifier',
    mode: { kind: 'decide', routes, forwarder },
    process: async (record) => {
      processed.push(String(record.key));
      return { status: 'done', action: 'processed' };
    },
    deadLetters: new DeadLetterPublisher(sink, 'events.dead-letter'),
    logger: silentLogger,
    metrics: testMetrics(),
  });
  return { handler, processed, fencesAsked };
}

describe('several consumer workloads on one topic: a teardown is one workload’s', () => {
  const signal = new AbortController().signal;

  it("passes another group's fence by, and acts on its own", async () => {
    const { handler, fencesAsked } = notifierBaseline();
    const theirs = {
      ...consumed(),
      ...fenceRecord({ sandbox: 'pr-1', fenceId: 'f1', partition: 0, group: 'ingress' }),
    };
    assert.deepEqual(await handler.handle(theirs, signal), { status: 'done', action: 'skipped' });
    assert.deepEqual(fencesAsked, [], "the ingress's teardown is none of the notifier's business");
    const mine = {
      ...consumed(),
      ...fenceRecord({ sandbox: 'pr-1', fenceId: 'f2', partition: 0, group: 'notifier' }),
    };
    assert.deepEqual(await handler.handle(mine, signal), { status: 'done', action: 'fenced' });
    assert.deepEqual(fencesAsked, ['pr-1']);
  });

  it("does not process twice what another workload's teardown moved back; processes what its own moved back", async () => {
    const { handler, processed } = notifierBaseline();
    const movedForIngress = { ...consumed({ eventId: 'e-ingress' }) };
    const forIngress = { ...movedForIngress, ...withHeader(movedForIngress, RETURNED_FOR_HEADER, 'ingress') };
    assert.deepEqual(await handler.handle(forIngress, signal), { status: 'done', action: 'skipped' });
    const movedForMe = consumed({ eventId: 'e-notifier' });
    const forMe = { ...movedForMe, ...withHeader(movedForMe, RETURNED_FOR_HEADER, 'notifier') };
    assert.deepEqual(await handler.handle(forMe, signal), { status: 'done', action: 'processed' });
    assert.deepEqual(processed, ['e-notifier']);
  });
});
