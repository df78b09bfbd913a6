import { randomUUID } from 'node:crypto';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { checkKafkaAccess, consumerRestarts } from '@sandbox-routing/kafka';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { TrailEmitter, type TrailLogger, type TrailMessage, type TrailTransport } from './emitter';
import { parseTrailRecord } from './parse';
import { type PartitionOffset, ReadPositions } from './positions';
import type { TrailRecord } from './record';

/** Where the results topic is. */
export interface KafkaTrailOptions {
  brokers: string[];
  clientId: string;
  /** The results topic (`KAFKA_RESULTS_TOPIC`, default `events.results`). */
  topic: string;
  /** TLS and SASL (service-kit's `kafkaSecurityOptions`); none: plaintext. */
  security?: Pick<import('kafkajs').KafkaConfig, 'ssl' | 'sasl'>;
}

// require(), not import: kafkajs must load after telemetry starts (its instrumentation patches on
// load), and only in processes that use the trail.
const kafkajs = () => require('kafkajs') as typeof import('kafkajs');

function kafkaClient(options: KafkaTrailOptions) {
  const { Kafka, logLevel } = kafkajs();
  // Short timeouts and few retries: the emitter retries whole batches itself, with back-off.
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...options.security,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 5_000,
    retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1_000 },
  });
}

/**
 * Connects once, without retries, to stop at start when Kafka refuses the credentials or TLS (see
 * `checkKafkaAccess`): the transport connects only on its first send and retries failures for ever.
 * @throws KafkaAccessError naming the settings to check
 */
export function checkTrailKafkaAccess(options: KafkaTrailOptions): Promise<'ok' | 'unreachable'> {
  const { Kafka, logLevel } = kafkajs();
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...options.security,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
  return checkKafkaAccess(kafka.admin({ retry: { retries: 0 } }));
}

/**
 * Sends trail records to the results topic. Connects on the first send, and again after a failed
 * one. Records are sent outside any OpenTelemetry context, so they carry no `baggage` routing key
 * and sandbox-aware consumers never filter them: every reader sees every record.
 */
export function kafkaTrailTransport(options: KafkaTrailOptions): TrailTransport {
  const producer: Producer = kafkaClient(options).producer({
    allowAutoTopicCreation: false,
    idempotent: false,
  });
  let connected: Promise<void> | undefined;
  return {
    async send(messages: readonly TrailMessage[]) {
      try {
        connected ??= producer.connect();
        await connected;
        await context.with(ROOT_CONTEXT, () =>
          producer.send({
            topic: options.topic,
            acks: 1,
            messages: messages.map((m) => ({ key: m.key, value: m.value })),
          }),
        );
      } catch (error) {
        connected = undefined;
        throw error;
      }
    },
    close: () => producer.disconnect(),
  };
}

export interface TrailSubscriptionOptions extends KafkaTrailOptions {
  /**
   * Consumer group. Default: a new one per reader (`<clientId>-trail-<random>`, offsets never
   * committed), so that every reader sees every record from the moment it started.
   */
  groupId?: string;
  /** Read the topic from its start instead of from now (same as `from: 'beginning'`). */
  fromBeginning?: boolean;
  /**
   * Where to start: `end` (default: what is written from now), `beginning`, or `{ lastRecords: n }`:
   * the last n records of each partition as well (recent history for a page that just opened).
   */
  from?: TrailStart;
  onRecord(record: TrailRecord): void;
  /** A message that is not a valid record (it is skipped). */
  onInvalid?(reason: string): void;
  /** How long to wait for the group join; default 30 s. */
  joinTimeoutMs?: number;
  logger?: TrailLogger;
}

/** Where a trail reader starts reading. */
export type TrailStart = 'end' | 'beginning' | { lastRecords: number };

/**
 * Each partition's start offset for `lastRecords` records back from its end (the offset the next
 * message written to it will get), never before the oldest one left (`low`).
 */
export function startOffsets(
  offsets: readonly { partition: number; low: string; high: string }[],
  lastRecords: number,
): PartitionOffset[] {
  return offsets.map((o) => {
    const back = BigInt(o.high) - BigInt(Math.max(0, Math.floor(lastRecords)));
    const low = BigInt(o.low);
    return { partition: o.partition, offset: (back > low ? back : low).toString() };
  });
}

/**
 * Each partition's start offset: its end, or `lastRecords` before it.
 * @throws Error when the topic does not exist (kafkajs would retry that for as long as it may)
 */
async function startingOffsets(admin: Admin, topic: string, lastRecords: number): Promise<PartitionOffset[]> {
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) throw new Error(`topic ${topic} does not exist`);
    return startOffsets(await admin.fetchTopicOffsets(topic), lastRecords);
  } finally {
    await admin.disconnect();
  }
}

export interface TrailSubscription {
  stop(): Promise<void>;
}

/**
 * Reads trail records from the results topic: every record written after the call (with `from`,
 * also the last records of each partition, or every record), each once, also across broker restarts and rebalances, after which
 * it goes on from where it was. Resolves once the consumer has joined its group.
 * @throws Error when the group is not joined within `joinTimeoutMs`
 */
export async function subscribeTrail(options: TrailSubscriptionOptions): Promise<TrailSubscription> {
  // The reader retries connecting for ever: refused credentials or TLS must stop it at once instead.
  await checkTrailKafkaAccess(options);
  const kafka = kafkaClient(options);
  // Kafka being away is waited out, as the consumer's own connection does.
  const retry = { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5_000 };
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId ?? `${options.clientId}-trail-${randomUUID().slice(0, 8)}`,
    // A reader that only watches: no rebalance delays, nothing kept for it after it leaves.
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    // Short long-polls: stop() waits for the fetch in flight.
    maxWaitTimeInMs: 1_000,
    retry,
  });
  let joined: () => void = () => undefined;
  const join = new Promise<void>((resolve) => {
    joined = resolve;
  });
  // Nothing is committed, so after every join kafkajs would start at the end of the topic: each
  // assigned partition is sought to where this reader is instead (see ReadPositions).
  let positions: ReadPositions | undefined;
  const from: TrailStart = options.fromBeginning ? 'beginning' : (options.from ?? 'end');
  const run = async (): Promise<void> => {
    positions ??= new ReadPositions(
      from === 'beginning'
        ? 'beginning'
        : await startingOffsets(kafka.admin({ retry }), options.topic, from === 'end' ? 0 : from.lastRecords),
    );
    const reading = positions;
    await consumer.connect();
    // Every partition is sought explicitly; this only says where an offset no longer in the log
    // (deleted by retention) resets to: the oldest one left.
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (!reading.read(partition, message.offset)) return;
        const parsed = parseTrailRecord(message.value);
        if (parsed.ok) options.onRecord(parsed.record);
        else options.onInvalid?.(parsed.reason);
      },
    });
  };
  // A broker restart can make kafkajs give up on the reader (tulios/kafkajs#1630): restart it then.
  const restarts = consumerRestarts({
    restart: run,
    onCrash: (error, restarting) =>
      options.logger?.warn(
        { err: String(error), restarting },
        restarting ? 'trail reader crashed; restarting' : 'trail reader crashed; not restarting',
      ),
  });
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    // Synchronously, before the first fetch of the new assignment.
    const assigned = event.payload.memberAssignment[options.topic] ?? [];
    for (const seek of positions?.seeks(assigned) ?? []) consumer.seek({ topic: options.topic, ...seek });
    restarts.joined();
    joined();
  });
  consumer.on(consumer.events.CRASH, (event) => restarts.crashed(event.payload.error, event.payload.restart));
  await run();
  const timeoutMs = options.joinTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      join,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`trail reader did not join within ${timeoutMs} ms (topic ${options.topic})`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    restarts.stop();
    await consumer.disconnect().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    stop: () => {
      restarts.stop();
      return consumer.disconnect();
    },
  };
}

/** A service's trail settings (service-kit's `TrailConfig`: `TRAIL_ENABLED`, the results topic, the buffer). */
export interface ServiceTrailSettings {
  enabled: boolean;
  topic: string;
  bufferSize: number;
}

/**
 * The trail emitter of a service: to the results topic on the service's own brokers, with its buffer
 * size and logger; undefined when the trail is off. (Its metrics: service-kit's `registerTrailMetrics`.)
 */
export function serviceTrailEmitter(
  settings: ServiceTrailSettings,
  kafka: Omit<KafkaTrailOptions, 'topic'>,
  logger: TrailLogger,
): TrailEmitter | undefined {
  if (!settings.enabled) return undefined;
  return new TrailEmitter({
    transport: kafkaTrailTransport({ ...kafka, topic: settings.topic }),
    capacity: settings.bufferSize,
    logger,
  });
}
