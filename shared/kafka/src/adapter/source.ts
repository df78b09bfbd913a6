import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { BackoffPolicy } from '../backoff';
import { type ConsumerRestarts, consumerRestarts } from '../consumer-restarts';
import type { ConsumedRecord, PartitionRef } from '../records';
import type { ConsumerState, ConsumerStateChange, MessageSource } from '../seam';
import { toBrokerError } from './errors';
import { fromKafkajsHeaders } from './headers';

export interface KafkajsSourceOptions {
  groupId: string;
  topic: string;
  /** Where a group without committed offsets starts: the earliest offset (true) or the end. */
  fromBeginning: boolean;
  /** Fetch long-poll; also bounds how long stopping waits for the fetch in flight. */
  maxWaitTimeMs?: number;
  /** Partitions delivered at the same time (each still one record at a time, in order); default 1. */
  partitionsConcurrently?: number;
  /** Back-off of the restarts after a crash kafkajs gives up on during an outage; default 1 s → 30 s. */
  restartBackoff?: BackoffPolicy;
}

type Deliver = (record: ConsumedRecord) => Promise<void>;

/** `message` of `topic/partition` as a {@link ConsumedRecord}. */
export function toConsumedRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ?? null,
    value: message.value ?? null,
    headers: fromKafkajsHeaders(message.headers),
    timestamp: message.timestamp,
  };
}

/**
 * A kafkajs group consumer behind the {@link MessageSource} seam: manual commits only (`autoCommit:
 * false`), `eachMessage` (one record at a time per partition; kafkajs's OpenTelemetry instrumentation
 * runs it in the context extracted from the record's headers), and pause with a rewind (`pause` +
 * `seek`), so a record that cannot be handled yet is delivered again after `resume` while the
 * consumer keeps heart-beating and serving its other partitions.
 */
export class KafkajsSource implements MessageSource {
  private readonly consumer: Consumer;
  private current: ConsumerState = 'stopped';
  private readonly listeners: ((change: ConsumerStateChange) => void)[] = [];
  /** Restarts after crashes kafkajs gives up on although brokers being away caused them. */
  private readonly restarts: ConsumerRestarts;
  /** Set by `start`: what a restart delivers to again. */
  private deliver: Deliver | undefined;

  constructor(
    kafka: Kafka,
    private readonly options: KafkajsSourceOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 1000,
    });
    const { CONNECT, GROUP_JOIN, REBALANCING, CRASH, STOP, DISCONNECT } = this.consumer.events;
    this.consumer.on(CONNECT, () => this.change({ state: 'joining' }));
    this.consumer.on(REBALANCING, () => this.change({ state: 'joining' }));
    this.restarts = consumerRestarts({
      // Never before `start` (nothing crashes before it runs), so `deliver` is set.
      restart: () => (this.deliver ? this.run(this.deliver) : Promise.resolve()),
      onCrash: (error, restarting) => this.change({ state: 'crashed', error, restarting }),
      backoff: options.restartBackoff,
    });
    this.consumer.on(GROUP_JOIN, () => {
      this.restarts.joined();
      this.change({ state: 'member' });
    });
    // kafkajs disconnects before it reports a crash, so a crash is the last word until it rejoins.
    this.consumer.on(STOP, () => this.change({ state: 'stopped' }));
    this.consumer.on(DISCONNECT, () => this.change({ state: 'stopped' }));
    this.consumer.on(CRASH, ({ payload }) => this.restarts.crashed(payload.error, payload.restart));
  }

  get state(): ConsumerState {
    return this.current;
  }

  onStateChange(listener: (change: ConsumerStateChange) => void): void {
    this.listeners.push(listener);
  }

  private change(change: ConsumerStateChange): void {
    this.current = change.state;
    for (const listener of this.listeners) listener(change);
  }

  async start(deliver: Deliver): Promise<void> {
    this.deliver = deliver;
    await this.run(deliver);
  }

  private async run(deliver: Deliver): Promise<void> {
    const { topic, fromBeginning } = this.options;
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic, fromBeginning });
      await this.consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: this.options.partitionsConcurrently ?? 1,
        eachMessage: ({ topic: from, partition, message }) =>
          deliver(toConsumedRecord(from, partition, message)),
      });
    } catch (error) {
      throw toBrokerError(error, `consuming ${topic} in group ${this.options.groupId}`);
    }
  }

  pause(partition: PartitionRef, fromOffset: string): void {
    const topics = [{ topic: partition.topic, partitions: [partition.partition] }];
    try {
      this.consumer.pause(topics);
      // The rewind: kafkajs resolves the record just delivered when `eachMessage` returns; the seek
      // (applied at the next fetch, without a commit since autoCommit is off) moves the position back.
      this.consumer.seek({ topic: partition.topic, partition: partition.partition, offset: fromOffset });
    } catch (error) {
      // kafkajs has no consumer group between a crash and its restart, or once stopped, and throws
      // "Consumer group was not initialized". Nothing to pause then: a restart reads from the group's
      // committed offsets, at or below any rewind. A member refusing it is something else.
      if (this.current === 'member') throw error;
    }
  }

  resume(partition: PartitionRef): void {
    try {
      this.consumer.resume([{ topic: partition.topic, partitions: [partition.partition] }]);
    } catch {
      // Not running (stopped, or restarting after a crash): the restart starts unpaused anyway.
    }
  }

  async commit(positions: readonly (PartitionRef & { nextOffset: string })[]): Promise<void> {
    if (positions.length === 0) return;
    try {
      await this.consumer.commitOffsets(
        positions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.nextOffset })),
      );
    } catch (error) {
      throw toBrokerError(error, `committing offsets of group ${this.options.groupId}`);
    }
  }

  async stop(): Promise<void> {
    this.restarts.stop();
    await this.consumer.disconnect();
  }
}
