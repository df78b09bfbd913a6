import { randomUUID } from 'node:crypto';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Consumer, Producer } from 'kafkajs';
import { consumerRestarts } from '../service/consumer-restarts';
import type { TrailLogger, TrailMessage, TrailTransport } from './emitter';
import { parseTrailRecord } from './parse';
import type { TrailRecord } from './record';

/** Where the results topic is. */
export interface KafkaTrailOptions {
  brokers: string[];
  clientId: string;
  /** The results topic (`KAFKA_RESULTS_TOPIC`, default `events.results`). */
  topic: string;
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
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 5_000,
    retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1_000 },
  });
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
   * committed), so that every reader sees every record from the moment it joined.
   */
  groupId?: string;
  /** Read the topic from its start instead of from now. */
  fromBeginning?: boolean;
  onRecord(record: TrailRecord): void;
  /** A message that is not a valid record (it is skipped). */
  onInvalid?(reason: string): void;
  /** How long to wait for the group join; default 30 s. */
  joinTimeoutMs?: number;
  logger?: TrailLogger;
}

export interface TrailSubscription {
  stop(): Promise<void>;
}

/**
 * Reads trail records from the results topic. Resolves once the consumer has joined its group, so
 * records of work started after that are seen.
 * @throws Error when the group is not joined within `joinTimeoutMs`
 */
export async function subscribeTrail(options: TrailSubscriptionOptions): Promise<TrailSubscription> {
  const consumer: Consumer = kafkaClient(options).consumer({
    groupId: options.groupId ?? `${options.clientId}-trail-${randomUUID().slice(0, 8)}`,
    // A reader that only watches: no rebalance delays, nothing kept for it after it leaves.
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    // Short long-polls: stop() waits for the fetch in flight.
    maxWaitTimeInMs: 1_000,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
  let joined: () => void = () => undefined;
  const join = new Promise<void>((resolve) => {
    joined = resolve;
  });
  const run = async (): Promise<void> => {
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning ?? false });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
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
  consumer.on(consumer.events.GROUP_JOIN, () => {
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
