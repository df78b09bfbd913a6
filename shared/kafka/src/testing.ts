/**
 * In-memory stand-ins for the Kafka seam (`@sandbox-routing/kafka/testing`), for unit tests of
 * consumers built on it, this package's and yours: records with raw headers, a sink that keeps what it
 * was given, an admin, a source whose deliveries the test drives.
 */
import { Registry } from 'prom-client';
import type { FieldLogger } from './kafkajs-log';
import { consumerMetrics } from './metrics';
import type { ConsumedRecord, KafkaRecord, PartitionRef, RecordHeader } from './records';
import type {
  ConsumerState,
  ConsumerStateChange,
  GroupDescription,
  MessageSink,
  MessageSource,
  TopicAdmin,
  TopicSpec,
} from './seam';

const quiet = () => {};
/** A logger that writes nothing. */
export const silentLogger: FieldLogger & { child(): FieldLogger } = {
  error: quiet,
  warn: quiet,
  info: quiet,
  debug: quiet,
  child: () => silentLogger,
};

/** Consumer metrics in a registry of their own. */
export function testMetrics() {
  return consumerMetrics(new Registry(), 'sandbox_routing_test');
}

export function headers(...pairs: [string, string | Buffer | null][]): RecordHeader[] {
  return pairs.map(([name, value]) => ({
    name,
    value: value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value),
  }));
}

let nextOffset = 0;

/** A consumed record; by default a valid `order.created` event without a routing key. */
export function consumed(overrides: Partial<ConsumedRecord> & { eventId?: string } = {}): ConsumedRecord {
  const { eventId = `e-${nextOffset}`, ...rest } = overrides;
  const value = Buffer.from(
    JSON.stringify({ id: eventId, type: 'order.created', time: '2026-01-01T00:00:00Z', payload: {} }),
  );
  return {
    topic: 'events',
    partition: 0,
    offset: String(nextOffset++),
    key: Buffer.from(eventId),
    value,
    headers: [],
    timestamp: '1767225600000',
    ...rest,
  };
}

/** A sink that keeps what it was given; `failWith` makes the next writes to a topic fail. */
export class FakeSink implements MessageSink {
  readonly written = new Map<string, (KafkaRecord & { partition?: number })[]>();
  /** Per topic, errors thrown by the next produce calls, in order (then it succeeds). */
  readonly failures = new Map<string, Error[]>();
  /** Checks each record before it is written (e.g. a size limit). */
  check?: (topic: string, record: KafkaRecord) => void;

  failWith(topic: string, ...errors: Error[]): void {
    this.failures.set(topic, [...(this.failures.get(topic) ?? []), ...errors]);
  }

  async produce(topic: string, records: readonly (KafkaRecord & { partition?: number })[]): Promise<void> {
    const failure = this.failures.get(topic)?.shift();
    if (failure) throw failure;
    for (const record of records) this.check?.(topic, record);
    this.written.set(topic, [...(this.written.get(topic) ?? []), ...records]);
  }

  of(topic: string): (KafkaRecord & { partition?: number })[] {
    return this.written.get(topic) ?? [];
  }

  async close(): Promise<void> {}
}

/** An admin over an in-memory set of topics. */
export class FakeAdmin implements TopicAdmin {
  readonly topics = new Map<string, TopicSpec>();
  readonly groups = new Map<string, GroupDescription>();
  readonly committed = new Map<string, Map<number, string>>();
  readonly offsetsOf = new Map<string, Map<number, { low: string; high: string }>>();
  readonly deletedGroups: string[] = [];
  created = 0;

  async ensureTopic(spec: TopicSpec): Promise<boolean> {
    if (this.topics.has(spec.topic)) return false;
    this.topics.set(spec.topic, spec);
    this.created++;
    return true;
  }
  async topicExists(topic: string): Promise<boolean> {
    return this.topics.has(topic);
  }
  async partitions(topic: string): Promise<number[]> {
    return Array.from({ length: this.topics.get(topic)?.partitions ?? 0 }, (_, i) => i);
  }
  async offsets(topic: string): Promise<Map<number, { low: string; high: string }>> {
    return this.offsetsOf.get(topic) ?? new Map();
  }
  async committedOffsets(groupId: string): Promise<Map<number, string>> {
    return this.committed.get(groupId) ?? new Map();
  }
  async describeGroup(groupId: string): Promise<GroupDescription> {
    return this.groups.get(groupId) ?? { state: 'Dead', members: 0 };
  }
  async deleteTopic(topic: string): Promise<void> {
    this.topics.delete(topic);
  }
  async deleteGroup(groupId: string): Promise<void> {
    this.deletedGroups.push(groupId);
    this.groups.delete(groupId);
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

/** A source the test drives: `deliver` hands a record over as the client would. */
export class FakeSource implements MessageSource {
  state: ConsumerState = 'stopped';
  readonly pauses: { partition: number; fromOffset: string }[] = [];
  readonly resumes: number[] = [];
  readonly commits: (PartitionRef & { nextOffset: string })[][] = [];
  stopped = false;
  failCommits = 0;
  private handler: ((record: ConsumedRecord) => Promise<void>) | undefined;
  private readonly listeners: ((change: ConsumerStateChange) => void)[] = [];

  async start(deliver: (record: ConsumedRecord) => Promise<void>): Promise<void> {
    this.handler = deliver;
    this.emit({ state: 'member' });
  }
  deliver(record: ConsumedRecord): Promise<void> {
    if (!this.handler) throw new Error('not started');
    return this.handler(record);
  }
  pause(partition: PartitionRef, fromOffset: string): void {
    this.pauses.push({ partition: partition.partition, fromOffset });
  }
  resume(partition: PartitionRef): void {
    this.resumes.push(partition.partition);
  }
  async commit(positions: readonly (PartitionRef & { nextOffset: string })[]): Promise<void> {
    if (this.failCommits > 0) {
      this.failCommits--;
      throw new Error('commit failed');
    }
    this.commits.push([...positions]);
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.emit({ state: 'stopped' });
  }
  onStateChange(listener: (change: ConsumerStateChange) => void): void {
    this.listeners.push(listener);
  }
  emit(change: ConsumerStateChange): void {
    this.state = change.state;
    for (const listener of this.listeners) listener(change);
  }
  /** The last committed position of a partition. */
  committedAt(partition: number): string | undefined {
    for (let i = this.commits.length - 1; i >= 0; i--) {
      const found = this.commits[i]?.find((p) => p.partition === partition);
      if (found) return found.nextOffset;
    }
    return undefined;
  }
}

/** Resolves after pending microtasks and timers of 0 ms ran. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
