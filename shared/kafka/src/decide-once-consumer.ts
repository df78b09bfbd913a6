/**
 * A decide-once consumer, wired: what any consumer service of an application needs to read its topic as
 * one workload (DESIGN §9), given its processing step. The baseline reads the source topic in the
 * workload's group and decides; a fork reads its own forward topic (`<topic>.<group>.sandbox.<name>`) in
 * `<group>-<name>` from the start and processes all of it. Records in flight per partition, contiguous
 * commits, back-off, dead letters, fences and the forwards are the library's; the service brings its
 * Kafka clients, its route tables and `process`.
 */
import type { InstanceIdentity, NeverSyncedPolicy, WorkloadRoutes } from '@sandbox-routing/core';
import type { KafkaClients } from './adapter';
import type { BackoffPolicy } from './backoff';
import { ConsumerLoop } from './consumer-loop';
import { DeadLetterPublisher } from './dead-letter';
import { DecideOnceHandler, type DecideOnceMode, type DecideOnceOptions } from './decide-once';
import { isControlRecord } from './fence';
import { consumerGroupOf, forwardTopicOf, SandboxForwarder } from './forward-topics';
import type { FieldLogger } from './kafkajs-log';
import type { ConsumerMetrics } from './metrics';
import { partitionKey } from './records';
import type { ConsumerState, TopicSpec } from './seam';

export interface DecideOnceConsumerOptions
  extends Pick<DecideOnceOptions, 'process' | 'onOutcome' | 'tracerName' | 'recordNoun'> {
  clients: KafkaClients;
  /** This instance: a sandbox name makes it a fork of the workload. */
  identity: InstanceIdentity;
  /** The workload's consumer as the application declares it: the source topic and the baseline's group. */
  topic: string;
  group: string;
  /**
   * What the baseline decides with (ignored in a fork): the workload's own routes, those of the
   * workloads its processing puts work on (carried with each decision), the policy before the first
   * sync, and a fresh answer to "does this sandbox still fork the workload" (before a forward topic is
   * created).
   */
  deciding?: {
    routes: WorkloadRoutes;
    alsoDecide?: readonly WorkloadRoutes[];
    neverSyncedPolicy?: NeverSyncedPolicy | 'default';
    forksWorkload: (sandbox: string) => Promise<boolean>;
  };
  /** Partitions, replication and config of the forward topics. */
  topicSpec: (topic: string) => TopicSpec;
  deadLetterTopic: string;
  logger: FieldLogger;
  metrics: ConsumerMetrics;
  backoff: BackoffPolicy;
  /** Records of one partition in hand at once. */
  maxInFlight?: number;
  /** Partitions handled at once (kafkajs `partitionsConsumedConcurrently`). */
  partitionsConcurrently?: number;
  /** Least time between two offset commits (default 100 ms; see `ConsumerLoopOptions`). */
  commitIntervalMs?: number;
  /** The consumer cannot go on (a crash it will not restart from, a dead-letter topic refusing writes). */
  onFatal: (error: unknown) => void;
}

/** One workload's consumer: start it, stop it, ask how it is. */
export class DecideOnceConsumer {
  /** The topic this instance reads: the source topic, or its fork's forward topic. */
  readonly topic: string;
  readonly groupId: string;
  readonly mode: DecideOnceMode;
  readonly handler: DecideOnceHandler;
  private readonly loop: ConsumerLoop;
  private readonly source;
  private readonly backingOffByPartition = new Map<string, string>();
  private stopping = false;

  constructor(private readonly options: DecideOnceConsumerOptions) {
    const { identity, clients, topic, group, deciding, metrics, logger } = options;
    const sandbox = identity.sandboxName;
    this.groupId = consumerGroupOf(group, sandbox);
    this.topic = sandbox ? forwardTopicOf(topic, group, sandbox) : topic;
    this.mode =
      sandbox || !deciding
        ? { kind: 'process-all' }
        : {
            kind: 'decide',
            routes: deciding.routes,
            alsoDecide: deciding.alsoDecide,
            neverSyncedPolicy: deciding.neverSyncedPolicy,
            forwarder: new SandboxForwarder({
              sink: clients.sink,
              admin: clients.admin,
              eventsTopic: topic,
              consumerGroup: group,
              topicSpec: options.topicSpec,
              forksWorkload: deciding.forksWorkload,
              logger,
            }),
          };
    this.handler = new DecideOnceHandler({
      identity,
      group,
      mode: this.mode,
      process: options.process,
      onOutcome: options.onOutcome,
      tracerName: options.tracerName,
      recordNoun: options.recordNoun,
      deadLetters: new DeadLetterPublisher(clients.sink, options.deadLetterTopic),
      logger,
      metrics,
    });
    this.source = clients.source({
      groupId: this.groupId,
      topic: this.topic,
      fromBeginning: true,
      partitionsConcurrently: options.partitionsConcurrently,
    });
    this.source.onStateChange(({ state, error, restarting }) => {
      if (state !== 'crashed') return;
      // A crash it restarts from (brokers away) is expected while they are: a warning, not an error.
      if (restarting) logger.warn({ error: error?.message, restarting }, 'consumer crashed; restarting');
      else logger.error({ error: error?.message, restarting }, 'consumer crashed');
      // While stopping, a crash is the stop's own business (a disconnect under a join): not a failure.
      if (!restarting && !this.stopping)
        options.onFatal(new Error(`the Kafka consumer crashed and will not restart: ${error?.message}`));
    });
    this.loop = new ConsumerLoop({
      source: this.source,
      handle: (record, signal) => this.handler.handle(record, signal),
      backoff: options.backoff,
      logger,
      onFatal: (error) => {
        if (!this.stopping) options.onFatal(error);
      },
      maxInFlight: options.maxInFlight,
      commitIntervalMs: options.commitIntervalMs,
      // A teardown's fence marker must come after every forward before it in its partition.
      isBarrier: isControlRecord,
      onBackoff: (partition, operation) => {
        if (operation) this.backingOffByPartition.set(partitionKey(partition), operation);
        else this.backingOffByPartition.delete(partitionKey(partition));
        metrics.backingOff.reset();
        for (const failed of this.backingOffByPartition.values())
          metrics.backingOff.inc({ operation: failed });
      },
    });
  }

  /** The consumer's group membership (`member` once it reads). */
  get state(): ConsumerState {
    return this.source.state;
  }

  /** Partitions backing off now, by partition, with the operation that failed. */
  get backingOff(): ReadonlyMap<string, string> {
    return this.backingOffByPartition;
  }

  /** Connects and starts reading; a fork first makes sure its forward topic exists (it may precede any forward). */
  async start(): Promise<void> {
    if (this.stopping) return;
    if (this.options.identity.sandboxName)
      await this.options.clients.admin.ensureTopic(this.options.topicSpec(this.topic));
    if (this.stopping) return;
    await this.loop.start();
  }

  /** Stops reading: the record in hand is interrupted and left uncommitted, what was done is committed. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop.stop();
  }
}
