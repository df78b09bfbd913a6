/**
 * The seam between the ingress and its Kafka client: what the ingress needs from Kafka, and nothing
 * else. The event handler, the consumer loop and the teardown are written against these interfaces, so
 * they are tested with in-memory fakes and a change of client (say to `@confluentinc/kafka-javascript`)
 * is one new adapter. The adapter shipped is kafkajs (`./kafkajs`).
 */
import type { KafkaErrorReason } from './kafkajs-log';
import type { ConsumedRecord, KafkaRecord, PartitionRef } from './records';

/** Why a broker refused or failed a request, as far as the ingress must tell cases apart. */
export type BrokerErrorReason = KafkaErrorReason;

/** A Kafka request failed. `retriable` says whether the same request can succeed later. */
export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  constructor(
    message: string,
    readonly reason: BrokerErrorReason,
    readonly retriable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Writes records. */
export interface MessageSink {
  /**
   * Appends `records` to `topic` exactly as given (key, value, every header in order, timestamp),
   * acknowledged by all in-sync replicas. Nothing adds or rewrites a header, tracing instrumentation
   * included. Records without a partition are placed by key (Kafka's default partitioner).
   * @throws BrokerError
   */
  produce(topic: string, records: readonly (KafkaRecord & { partition?: number })[]): Promise<void>;
  close(): Promise<void>;
}

/** Settings of a topic the ingress creates (the sandbox topics). */
export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level configuration, e.g. `retention.ms`. */
  config: Readonly<Record<string, string>>;
}

/** A consumer group as the broker describes it. */
export interface GroupDescription {
  /** `Stable`, `PreparingRebalance`, `Empty`, `Dead`, … (Kafka's group states). */
  state: string;
  members: number;
}

/** Cluster administration the ingress needs. */
export interface TopicAdmin {
  /** Creates the topic unless it exists; resolves `true` when it was created now. @throws BrokerError */
  ensureTopic(spec: TopicSpec): Promise<boolean>;
  topicExists(topic: string): Promise<boolean>;
  /** Partition numbers of `topic`. @throws BrokerError (`unknown-topic`) */
  partitions(topic: string): Promise<number[]>;
  /** Per partition: the first offset still stored and the next offset to be written. */
  offsets(topic: string): Promise<Map<number, { low: string; high: string }>>;
  /** The group's committed offset per partition; partitions without a commit are absent. */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, string>>;
  describeGroup(groupId: string): Promise<GroupDescription>;
  deleteTopic(topic: string): Promise<void>;
  /** Deletes the group (it must have no members); a group that does not exist is fine. */
  deleteGroup(groupId: string): Promise<void>;
  /** One request to the cluster; rejects when no broker answers within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Where the consumer is in its life. */
export type ConsumerState =
  /** Connecting, joining the group, or rebalancing: not consuming. */
  | 'joining'
  /** A member of the group with its partitions assigned: consuming. */
  | 'member'
  /** Crashed; the client restarts it (`restarting`) or has given up. */
  | 'crashed'
  | 'stopped';

export interface ConsumerStateChange {
  state: ConsumerState;
  /** Set when `state` is `crashed`. */
  error?: Error;
  /** When crashed: true if the client restarts the consumer by itself, false if it gave up. */
  restarting?: boolean;
}

/**
 * Reads one topic in a consumer group. Records of a partition are delivered one at a time, in offset
 * order; several partitions may be delivered concurrently. Nothing is committed unless `commit` is
 * called, so what was delivered but not committed is delivered again after a restart or a rebalance.
 */
export interface MessageSource {
  /** Connects, joins the group and starts delivering. Resolves once delivery has started. */
  start(deliver: (record: ConsumedRecord) => Promise<void>): Promise<void>;
  /**
   * Stops delivering `partition` until {@link resume}; delivery then restarts at `fromOffset`
   * (usually the offset of the record that could not be handled yet, so it comes again).
   */
  pause(partition: PartitionRef, fromOffset: string): void;
  resume(partition: PartitionRef): void;
  /** Commits, for each partition, `nextOffset`: the first offset not yet handled. @throws BrokerError */
  commit(positions: readonly (PartitionRef & { nextOffset: string })[]): Promise<void>;
  /** Leaves the group and disconnects; a delivery in progress is awaited. */
  stop(): Promise<void>;
  readonly state: ConsumerState;
  onStateChange(listener: (change: ConsumerStateChange) => void): void;
}
