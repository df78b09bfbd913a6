import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CARRIED_DECISION_HEADER } from '@sandbox-routing/core';
import { fenceOf, isControlRecord, RETURNED_FOR_HEADER } from '../fence';
import { type ConsumedRecord, type KafkaRecord, type PartitionRef, withHeader } from '../records';
import { SandboxDrain, TeardownRefusedError, TeardownTimeoutError } from '../sandbox-drain';
import type { ConsumerState, ConsumerStateChange, MessageSource } from '../seam';
import { FakeAdmin, FakeSink, headers } from '../testing';

const TOPIC = 'events.ingress.sandbox.pr-42';
const GROUP = 'ingress-pr-42';

/** Records of a fake topic by partition, with offsets = their index. */
function partitionsOf(sink: FakeSink, topic: string): Map<number, KafkaRecord[]> {
  const out = new Map<number, KafkaRecord[]>();
  for (const record of sink.of(topic)) {
    const partition = record.partition ?? 0;
    out.set(partition, [...(out.get(partition) ?? []), record]);
  }
  return out;
}

/** A group consumer over a FakeSink topic, delivering from the group's committed offsets (or 0). */
class TopicSource implements MessageSource {
  state: ConsumerState = 'stopped';
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly sink: FakeSink,
    private readonly admin: FakeAdmin,
    private readonly groupId: string,
    private readonly topic: string,
  ) {}

  async start(deliver: (record: ConsumedRecord) => Promise<void>): Promise<void> {
    this.state = 'member';
    const next = new Map(
      [...(this.admin.committed.get(this.groupId) ?? new Map<number, string>())].map(([p, o]) => [
        p,
        Number(o),
      ]),
    );
    this.loop = (async () => {
      while (!this.stopped) {
        for (const [partition, records] of partitionsOf(this.sink, this.topic)) {
          for (let offset = next.get(partition) ?? 0; offset < records.length && !this.stopped; offset++) {
            await deliver({
              ...(records[offset] as KafkaRecord),
              topic: this.topic,
              partition,
              offset: String(offset),
            });
            next.set(partition, offset + 1);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
  }
  pause(): void {}
  resume(): void {}
  async commit(positions: readonly (PartitionRef & { nextOffset: string })[]): Promise<void> {
    const committed = this.admin.committed.get(this.groupId) ?? new Map<number, string>();
    for (const p of positions) committed.set(p.partition, p.nextOffset);
    this.admin.committed.set(this.groupId, committed);
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.state = 'stopped';
  }
  onStateChange(_listener: (change: ConsumerStateChange) => void): void {}
}

interface World {
  sink: FakeSink;
  admin: FakeAdmin;
  sandboxExists: boolean;
  /** Which events partitions the simulated baseline ingress passes fences on. */
  baselinePasses: (partition: number) => boolean;
  drain: SandboxDrain;
}

function world(): World {
  const sink = new FakeSink();
  const admin = new FakeAdmin();
  admin.topics.set('events', { topic: 'events', partitions: 3, replicationFactor: 1, config: {} });
  admin.topics.set(TOPIC, { topic: TOPIC, partitions: 2, replicationFactor: 1, config: {} });
  admin.offsets = async (topic) =>
    new Map(
      Array.from({ length: admin.topics.get(topic)?.partitions ?? 0 }, (_, p) => [
        p,
        { low: '0', high: String(partitionsOf(sink, topic).get(p)?.length ?? 0) },
      ]),
    );
  const state: World = {
    sink,
    admin,
    sandboxExists: false,
    baselinePasses: () => true,
    drain: undefined as unknown as SandboxDrain,
  };
  // The baseline ingress: reaching a fence marker in `events`, it forwards it to the sandbox topic.
  sink.check = (topic, record) => {
    const marker = topic === 'events' ? fenceOf(record) : undefined;
    if (marker && state.baselinePasses(marker.partition)) {
      queueMicrotask(() => void sink.produce(TOPIC, [{ ...record, partition: marker.partition % 2 }]));
    }
  };
  state.drain = new SandboxDrain({
    eventsTopic: 'events',
    consumerGroup: 'ingress',
    admin,
    sink,
    openSource: ({ groupId, topic }) => new TopicSource(sink, admin, groupId, topic),
    forksWorkload: async () => state.sandboxExists,
    forkGoneTimeoutMs: 50,
    fenceTimeoutMs: 300,
    moveTimeoutMs: 1000,
  });
  return state;
}

/** Events the baseline forwarded before the sandbox went away. */
/**
 * Writes records to the sandbox topic as the baseline forwards them (each with its decision header);
 * returns them as they were first published.
 */
async function forwarded(sink: FakeSink, count: Record<number, number>): Promise<KafkaRecord[]> {
  const records: KafkaRecord[] = [];
  for (const [partition, n] of Object.entries(count)) {
    for (let i = 0; i < n; i++) {
      const record = {
        partition: Number(partition),
        key: Buffer.from(`k${partition}-${i}`),
        value: Buffer.from(`event ${partition}-${i}`),
        headers: headers(['baggage', 'sd-routing-key=kpr42'], ['baggage', ' x = 1 ']),
        timestamp: String(1_700_000_000_000 + i),
      };
      await sink.produce(TOPIC, [
        { ...withHeader(record, CARRIED_DECISION_HEADER, '{"v":1}'), partition: record.partition },
      ]);
      records.push(record);
    }
  }
  return records;
}

describe('SandboxDrain', () => {
  it('refuses while the sandbox still has routing rules, or its ingress still consumes', async () => {
    const w = world();
    w.sandboxExists = true;
    await assert.rejects(w.drain.run({ sandbox: 'pr-42' }), TeardownRefusedError);
    w.sandboxExists = false;
    w.admin.groups.set(GROUP, { state: 'Stable', members: 1 });
    await assert.rejects(w.drain.run({ sandbox: 'pr-42' }), /still has 1 member/);
    assert.ok(w.admin.topics.has(TOPIC), 'nothing deleted');
  });

  it('counts what is left after the fork committed, changing nothing, on a dry run', async () => {
    const w = world();
    await forwarded(w.sink, { 0: 3, 1: 2 });
    w.admin.committed.set(GROUP, new Map([[0, '1']]));
    const report = await w.drain.run({ sandbox: 'pr-42', dryRun: true });
    assert.equal(report.leftover, 4);
    assert.equal(report.moved, 0);
    assert.ok(w.admin.topics.has(TOPIC));
    assert.equal(w.sink.of('events').length, 0);
  });

  it('fences every partition, moves the leftovers back byte for byte, then deletes the topic and the group', async () => {
    const w = world();
    const records = await forwarded(w.sink, { 0: 3, 1: 2 });
    w.admin.committed.set(GROUP, new Map([[0, '1']])); // the fork had processed the first of partition 0
    const report = await w.drain.run({ sandbox: 'pr-42' });
    assert.deepEqual(report.fencedPartitions, [0, 1, 2]);
    assert.equal(report.moved, 4);
    const back = w.sink.of('events').filter((r) => !isControlRecord(r));
    const expected = [records[1], records[2], records[3], records[4]].map((r) => ({
      key: r?.key,
      value: r?.value,
      headers: [...(r?.headers ?? []), { name: RETURNED_FOR_HEADER, value: Buffer.from('ingress') }],
      timestamp: r?.timestamp,
    }));
    assert.deepEqual(
      back,
      expected,
      'as first published (without the decision the forward added), marked for the ingress group only: same key, value, headers and timestamp; placed by key',
    );
    // The fences name the group too: the topic's other consumer groups pass them by.
    const fences = w.sink.of('events').filter((r) => isControlRecord(r));
    assert.deepEqual(
      fences.map((r) => fenceOf(r)?.group),
      fences.map(() => 'ingress'),
    );
    assert.equal(w.admin.topics.has(TOPIC), false);
    assert.ok(w.admin.deletedGroups.includes(GROUP));
    assert.ok(
      w.admin.deletedGroups.some((g) => g.startsWith(`${GROUP}.teardown-`)),
      'the fence watcher too',
    );
  });

  it('deletes nothing when the baseline does not pass the fence in time', async () => {
    const w = world();
    await forwarded(w.sink, { 0: 1 });
    w.baselinePasses = (partition) => partition !== 2;
    await assert.rejects(w.drain.run({ sandbox: 'pr-42' }), (error: unknown) => {
      assert.ok(error instanceof TeardownTimeoutError);
      assert.match(error.message, /partition\(s\) 2 of events/);
      return true;
    });
    assert.ok(w.admin.topics.has(TOPIC));
  });

  it('keeps the topic when the sandbox comes back during the teardown', async () => {
    const w = world();
    await forwarded(w.sink, { 0: 1 });
    w.baselinePasses = () => {
      w.sandboxExists = true; // recreated while the fence travels
      return true;
    };
    const report = await w.drain.run({ sandbox: 'pr-42' });
    assert.match(report.keptBecause ?? '', /routing rules again/);
    assert.ok(w.admin.topics.has(TOPIC));
  });

  it('has nothing to do without a topic, and removes the group', async () => {
    const w = world();
    w.admin.topics.delete(TOPIC);
    const report = await w.drain.run({ sandbox: 'pr-42' });
    assert.equal(report.topicExisted, false);
    assert.ok(w.admin.deletedGroups.includes(GROUP));
  });
});
