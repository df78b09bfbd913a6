import type { Admin, Kafka } from 'kafkajs';
import { KafkaJSDeleteGroupsError } from 'kafkajs';
import { BrokerError, type GroupDescription, type TopicAdmin, type TopicSpec } from '../seam';
import { ConnectOnce } from './connect-once';
import { toBrokerError } from './errors';

/** Kafka's error code for a group that does not exist. */
const GROUP_ID_NOT_FOUND = 69;

/** Cluster administration through a kafkajs admin client (connected on first use). */
export class KafkajsAdmin implements TopicAdmin {
  private readonly connection: ConnectOnce;

  constructor(private readonly admin: Admin) {
    this.connection = new ConnectOnce(admin);
  }

  static create(kafka: Kafka): KafkajsAdmin {
    return new KafkajsAdmin(
      kafka.admin({ retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } }),
    );
  }

  private async call<T>(doing: string, request: (admin: Admin) => Promise<T>): Promise<T> {
    try {
      await this.connection.connect();
      return await request(this.admin);
    } catch (error) {
      throw toBrokerError(error, doing);
    }
  }

  /** Creations in progress, by topic: callers asking at the same time share one. */
  private readonly creating = new Map<string, Promise<boolean>>();

  /**
   * Creates the topic unless it exists; true when this call created it. Concurrent calls for one topic
   * (a burst of records for a new sandbox) share one request: each extra CreateTopics would only get
   * TOPIC_ALREADY_EXISTS, which kafkajs logs as an error line per request.
   */
  ensureTopic(spec: TopicSpec): Promise<boolean> {
    let creation = this.creating.get(spec.topic);
    if (!creation) {
      creation = this.createUnlessExists(spec).finally(() => this.creating.delete(spec.topic));
      this.creating.set(spec.topic, creation);
      return creation;
    }
    // Another caller creates it: for this one it existed already.
    return creation.then(() => false);
  }

  private async createUnlessExists(spec: TopicSpec): Promise<boolean> {
    // Asking first: kafkajs logs an error line for every "already exists" answer, which is the usual one.
    if (await this.topicExists(spec.topic)) return false;
    return this.call(`creating topic ${spec.topic}`, (admin) =>
      admin.createTopics({
        topics: [
          {
            topic: spec.topic,
            numPartitions: spec.partitions,
            replicationFactor: spec.replicationFactor,
            configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
          },
        ],
        waitForLeaders: true,
      }),
    );
  }

  async topicExists(topic: string): Promise<boolean> {
    const topics = await this.call('listing topics', (admin) => admin.listTopics());
    return topics.includes(topic);
  }

  async partitions(topic: string): Promise<number[]> {
    const { topics } = await this.call(`reading metadata of ${topic}`, (admin) =>
      admin.fetchTopicMetadata({ topics: [topic] }),
    );
    const partitions = topics[0]?.partitions.map((p) => p.partitionId) ?? [];
    if (partitions.length === 0)
      throw new BrokerError(`topic ${topic} has no partitions`, 'unknown-topic', true);
    return partitions.sort((a, b) => a - b);
  }

  async offsets(topic: string): Promise<Map<number, { low: string; high: string }>> {
    const offsets = await this.call(`reading offsets of ${topic}`, (admin) => admin.fetchTopicOffsets(topic));
    return new Map(offsets.map((o) => [o.partition, { low: o.low, high: o.high }]));
  }

  async committedOffsets(groupId: string, topic: string): Promise<Map<number, string>> {
    const [result] = await this.call(`reading offsets of group ${groupId}`, (admin) =>
      admin.fetchOffsets({ groupId, topics: [topic] }),
    );
    // kafkajs reports "no commit" as offset -1.
    return new Map(
      (result?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, p.offset]),
    );
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    const { groups } = await this.call(`describing group ${groupId}`, (admin) =>
      admin.describeGroups([groupId]),
    );
    const group = groups[0];
    return { state: group?.state ?? 'Dead', members: group?.members.length ?? 0 };
  }

  async deleteTopic(topic: string): Promise<void> {
    await this.call(`deleting topic ${topic}`, (admin) =>
      admin.deleteTopics({ topics: [topic], timeout: 10_000 }),
    );
  }

  async deleteGroup(groupId: string): Promise<void> {
    try {
      await this.connection.connect();
      await this.admin.deleteGroups([groupId]);
    } catch (error) {
      const notFound =
        error instanceof KafkaJSDeleteGroupsError &&
        error.groups.every((g) => g.errorCode === GROUP_ID_NOT_FOUND);
      if (!notFound) throw toBrokerError(error, `deleting group ${groupId}`);
    }
  }

  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.call('reading cluster metadata', (admin) => admin.describeCluster()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new BrokerError(`no broker answered within ${timeoutMs} ms`, 'unavailable', true)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
