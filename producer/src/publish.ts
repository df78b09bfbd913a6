import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Context, context, defaultTextMapSetter } from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import { contextWithRoutingKey } from '@sandbox-routing/core';
import {
  checkKafkaAccess,
  classifyKafkajsError,
  isKafkajsError,
  kafkajsLogCreator,
  kafkajsLogLevel,
} from '@sandbox-routing/kafka';
import { createEvent, EVENT_SCHEMA, eventProblems, type PipelineEvent } from '@sandbox-routing/sample';
import { type KafkaConfig, kafkaSecurityOptions, type LogLevel } from '@sandbox-routing/service-kit';
import { backOff } from 'exponential-backoff';
import type { Message } from 'kafkajs';
import type { PublishLog } from './log';
import type { MessageHeaders } from './options';
import type { PayloadFactory } from './payload';

/** Event type used when `--type` is not given. */
export const DEFAULT_EVENT_TYPE = 'order.created';
const typeSchema = EVENT_SCHEMA.properties.type;
/** What the event schema allows as a type (kept from the schema, so the two cannot disagree). */
const EVENT_TYPE_PATTERN = new RegExp(typeSchema.pattern);
const EVENT_TYPE_MAX_LENGTH = typeSchema.maxLength;

/** Most messages in one `send` when unpaced: big enough for throughput, small enough for one request. */
export const MAX_BATCH = 500;

/** Up to this many events the text summary has one line per event; above it, counts per partition. */
export const PER_EVENT_LINES = 20;

/**
 * How long the `publish` command retries a failing connect or send (`PUBLISH_RETRY_TIMEOUT_MS`): long
 * enough to ride out a broker restart. The functions here retry only when told to (an interactive
 * caller, such as the console, wants a quick answer instead).
 */
export const DEFAULT_RETRY_TIMEOUT_MS = 120_000;

/** Invalid input found after option parsing; `option` is the flag to blame. The CLI exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`option '${option}' is invalid: ${detail}`);
  }
}

/** What to publish. */
export interface EventPlan {
  count: number;
  /** Event type; default {@link DEFAULT_EVENT_TYPE}. */
  type?: string;
  /** Ids are `<idPrefix>-<seq>`; without it, random UUIDs. */
  idPrefix?: string | undefined;
  payload: PayloadFactory;
  /** The option the payload came from, named in errors about the payload. */
  payloadOption?: string;
}

/** The option responsible for each top-level field of the event schema. */
function optionFor(problem: string, plan: EventPlan): string {
  if (problem.startsWith('/id')) return '--id-prefix';
  if (problem.startsWith('/type')) return '--type';
  if (problem.startsWith('/payload')) return plan.payloadOption ?? '--payload';
  return '--count';
}

/**
 * Builds the events of `plan` (sequence numbers 1..count) and validates each against the event schema,
 * all before anything is sent, so a bad option never leaves half a run on the topic.
 *
 * @throws UsageError naming the option behind the first invalid event.
 */
export function buildEvents(plan: EventPlan): PipelineEvent[] {
  const type = plan.type ?? DEFAULT_EVENT_TYPE;
  // Said in words: the schema's own message is a raw regular expression.
  if (!EVENT_TYPE_PATTERN.test(type) || type.length > EVENT_TYPE_MAX_LENGTH) {
    throw new UsageError(
      '--type',
      `${JSON.stringify(type)} is not an event type: use lower-case words of letters, digits and hyphens, each starting with a letter, joined by dots (at least two words, up to ${EVENT_TYPE_MAX_LENGTH} characters), e.g. order.created`,
    );
  }
  const events: PipelineEvent[] = [];
  for (let seq = 1; seq <= plan.count; seq++) {
    const id = plan.idPrefix === undefined ? randomUUID() : `${plan.idPrefix}-${seq}`;
    let payload: Record<string, unknown>;
    try {
      payload = plan.payload({ seq, id });
    } catch (error) {
      throw new UsageError(plan.payloadOption ?? '--payload', (error as Error).message);
    }
    const event = createEvent(type, payload, id);
    const problems = eventProblems(event);
    if (problems) {
      const first = problems.split('; ')[0] ?? problems;
      throw new UsageError(optionFor(first, plan), `event ${seq} (id ${JSON.stringify(id)}): ${problems}`);
    }
    events.push(event);
  }
  return events;
}

/** Where one message landed. Offsets are strings, as kafkajs reports Kafka's 64-bit offsets. */
export interface MessagePlacement {
  partition: number;
  offset: string;
}

/**
 * Sends messages to Kafka. {@link connectSender} makes the real one; tests can pass a fake.
 */
export interface EventSender {
  /** Sends `messages` to `topic` in one request; resolves with each message's placement, in order. */
  send(topic: string, messages: Message[]): Promise<MessagePlacement[]>;
  disconnect(): Promise<void>;
}

/** Options of {@link publishEvents}. */
export interface PublishOptions {
  topic: string;
  /**
   * Put into OpenTelemetry baggage around each send; the kafkajs instrumentation writes the headers.
   * Empty or absent: no key (baseline traffic).
   */
  routingKey?: string | undefined;
  /** Kafka message key of every event; default: the event id (spreads events over partitions). */
  key?: string | undefined;
  /** Extra headers on every message (never `baggage`/`traceparent`: see `RESERVED_HEADERS`). */
  headers?: MessageHeaders;
  /** Events per second; without it, batches of up to {@link MAX_BATCH} go out back to back. */
  rate?: number | undefined;
  /** Stops sending after the batch in flight (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
  log?: PublishLog;
  /**
   * How long a failing send is retried (with back-off) before the run gives up; default 0 (only
   * kafkajs's own few retries). Errors marked `retriable: false` (a record too large, no permission)
   * end the run at once.
   */
  retryTimeoutMs?: number;
}

/** One sent event, as in the summary. */
export interface PublishedEvent {
  id: string;
  partition: number;
  offset: string;
  /** The trace the event starts (from the `traceparent` the kafkajs instrumentation wrote), if any. */
  traceId?: string;
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** The trace id of a message's `traceparent` header (W3C trace context), if it has a valid one. */
export function traceIdOf(headers: Message['headers']): string | undefined {
  const value = headers?.traceparent;
  const text = Buffer.isBuffer(value)
    ? value.toString('latin1')
    : typeof value === 'string'
      ? value
      : undefined;
  const traceId = text === undefined ? undefined : TRACEPARENT.exec(text.trim())?.[1];
  return traceId === undefined || /^0+$/.test(traceId) ? undefined : traceId;
}

/** Outcome of {@link publishEvents}. */
export interface PublishResult {
  topic: string;
  routingKey: string | undefined;
  requested: number;
  sent: number;
  /** True when the signal stopped the run before every event was sent. */
  interrupted: boolean;
  elapsedMs: number;
  events: PublishedEvent[];
}

/** Thrown when a send fails; `partial` says what had been sent before. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  constructor(
    message: string,
    readonly partial: PublishResult,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Writes the W3C `baggage` header, whatever propagators are (or are not) registered globally. */
const baggagePropagator = new W3CBaggagePropagator();

/**
 * Kafka messages for `events`: JSON value, key, and a fresh headers object per message. With a
 * `sendContext`, its baggage (the routing key) is written into `baggage` here, explicitly, so routing
 * never depends on the kafkajs instrumentation being loaded; when it is, it adds `traceparent` and
 * writes the same baggage again.
 */
export function toMessages(
  events: readonly PipelineEvent[],
  options: Pick<PublishOptions, 'key' | 'headers'> & { sendContext?: Context } = {},
): Message[] {
  return events.map((event) => {
    // One object per message: the kafkajs instrumentation injects traceparent/baggage into it in place,
    // and each message gets its own span, so a shared object would end up with one span's traceparent.
    const headers: Record<string, string | string[]> = { ...options.headers };
    if (options.sendContext) baggagePropagator.inject(options.sendContext, headers, defaultTextMapSetter);
    return { key: options.key ?? event.id, value: JSON.stringify(event), headers };
  });
}

/** False for errors that say retrying cannot help (`retriable: false`, as kafkajs and our own errors mark them). */
function isRetriableSendError(error: unknown): boolean {
  if (isKafkajsError(error)) return classifyKafkajsError(error).retriable;
  return (error as { retriable?: unknown } | undefined)?.retriable !== false;
}

/**
 * Runs `attempt` until it succeeds, retrying retriable failures with exponential back-off (full
 * jitter, 250 ms up to 5 s) for at most `timeoutMs`; `onRetry` is told of each failure retried.
 */
export async function retryFor<T>(
  timeoutMs: number,
  attempt: () => Promise<T>,
  onRetry: (error: unknown, attempt: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  return backOff(attempt, {
    numOfAttempts: Number.MAX_SAFE_INTEGER,
    startingDelay: 250,
    maxDelay: 5000,
    jitter: 'full',
    retry: (error: unknown, attemptNumber: number) => {
      if (signal?.aborted || !isRetriableSendError(error) || performance.now() >= deadline) return false;
      onRetry(error, attemptNumber);
      return true;
    },
  });
}

/**
 * Publishes `events` through `sender`. Each send runs in a context whose baggage holds the routing key
 * (when given), so the kafkajs instrumentation writes `traceparent` and `baggage: sd-routing-key=<key>`.
 *
 * Pacing with `rate`: event i (from 0) is due `i / rate` seconds after the start, on a fixed schedule, so
 * the average rate holds even when a send is slow; the events due at a moment go out together (at most
 * {@link MAX_BATCH} per send), and the loop sleeps until the next one is due.
 *
 * @throws PublishError when a send fails, with what was sent before.
 */
export async function publishEvents(
  sender: EventSender,
  events: readonly PipelineEvent[],
  options: PublishOptions,
): Promise<PublishResult> {
  const { topic, rate, signal, log } = options;
  const retryTimeoutMs = options.retryTimeoutMs ?? 0;
  // "" means no key, as everywhere in this project (the Kubernetes Job passes an empty ROUTING_KEY).
  const routingKey = options.routingKey || undefined;
  const sendContext =
    routingKey === undefined ? context.active() : contextWithRoutingKey(context.active(), routingKey);
  const published: PublishedEvent[] = [];
  const start = performance.now();
  const dueAt = (index: number) => (rate === undefined ? start : start + (index * 1000) / rate);
  const result = (): PublishResult => ({
    topic,
    routingKey,
    requested: events.length,
    sent: published.length,
    interrupted: published.length < events.length,
    elapsedMs: performance.now() - start,
    events: published,
  });

  let next = 0;
  while (next < events.length && !signal?.aborted) {
    const now = performance.now();
    let end = next;
    while (end < events.length && end - next < MAX_BATCH && dueAt(end) <= now) end++;
    if (end === next) {
      try {
        await sleep(Math.max(1, dueAt(next) - now), undefined, signal ? { signal } : {});
      } catch {
        // Aborted: the loop condition ends the run.
      }
      continue;
    }
    // Messages are made per batch, so a large run holds each event once, not also as a message.
    const batch = toMessages(events.slice(next, end), {
      ...options,
      ...(routingKey === undefined ? {} : { sendContext }),
    });
    let placements: MessagePlacement[];
    try {
      // A retried batch may have landed before its send failed: consumers dedupe by event id.
      placements = await retryFor(
        retryTimeoutMs,
        () => context.with(sendContext, () => sender.send(topic, batch)),
        (error, attempt) =>
          log?.warn(
            { topic, attempt, sent: published.length, of: events.length, error: (error as Error).message },
            'send failed; retrying',
          ),
        signal,
      );
    } catch (error) {
      throw new PublishError(
        `sending to ${topic} failed after ${published.length} of ${events.length} events were sent: ${(error as Error).message}`,
        result(),
        { cause: error },
      );
    }
    placements.forEach((placement, i) => {
      const traceId = traceIdOf(batch[i]?.headers);
      published.push({
        id: (events[next + i] as PipelineEvent).id,
        ...placement,
        ...(traceId ? { traceId } : {}),
      });
    });
    log?.debug({ topic, sent: published.length, of: events.length }, 'batch sent');
    next = end;
  }
  return result();
}

/** How many events went to each partition, by partition number. */
export function countPerPartition(events: readonly PublishedEvent[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const { partition } of events) counts.set(partition, (counts.get(partition) ?? 0) + 1);
  return new Map([...counts].sort(([a], [b]) => a - b));
}

function ratePerSecond(result: PublishResult): number {
  return result.sent / (Math.max(result.elapsedMs, 1) / 1000);
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** The summary as printed by `--json`: one object scripts and tests can parse. */
export interface PublishSummary {
  topic: string;
  sent: number;
  requested: number;
  interrupted: boolean;
  routingKey: string | null;
  elapsedMs: number;
  ratePerSecond: number;
  /** Events per partition (keys are partition numbers). */
  partitions: Record<string, number>;
  events: PublishedEvent[];
}

/** {@link PublishResult} as the `--json` summary. */
export function summaryJson(result: PublishResult): PublishSummary {
  return {
    topic: result.topic,
    sent: result.sent,
    requested: result.requested,
    interrupted: result.interrupted,
    routingKey: result.routingKey ?? null,
    elapsedMs: round1(result.elapsedMs),
    ratePerSecond: round1(ratePerSecond(result)),
    partitions: Object.fromEntries(countPerPartition(result.events)),
    events: result.events,
  };
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The human summary: one line per event up to {@link PER_EVENT_LINES} events (id, topic, partition,
 * offset, routing key), above that the count per partition; then totals, elapsed time and rate.
 */
export function formatSummary(result: PublishResult): string {
  const key = result.routingKey ?? '(none)';
  const lines =
    result.sent <= PER_EVENT_LINES
      ? table([
          ['id', 'topic', 'partition', 'offset', 'routing key'],
          ...result.events.map((e) => [e.id, result.topic, String(e.partition), e.offset, key]),
        ])
      : table([
          ['partition', 'events'],
          ...[...countPerPartition(result.events)].map(([partition, count]) => [
            String(partition),
            String(count),
          ]),
          ['total', String(result.sent)],
        ]);
  const elapsed =
    result.elapsedMs < 1000
      ? `${Math.round(result.elapsedMs)} ms`
      : `${(result.elapsedMs / 1000).toFixed(2)} s`;
  const what = result.interrupted
    ? `interrupted: sent ${result.sent} of ${result.requested} events`
    : `sent ${result.sent} event${result.sent === 1 ? '' : 's'}`;
  lines.push(
    `${what} to ${result.topic} in ${elapsed} (${round1(ratePerSecond(result))} events/s), routing key ${key}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Options of {@link connectSender}. */
export interface ConnectOptions {
  kafka: KafkaConfig;
  /** Checked to exist before anything is sent (the brokers may not auto-create topics). */
  topic: string;
  log: PublishLog;
  logLevel: LogLevel;
  /** How long connecting (and the topic check) is retried while no broker answers; default 0. */
  retryTimeoutMs?: number;
}

/** The topic does not exist; with auto-creation off, sending would only retry and fail. */
export class TopicNotFoundError extends Error {
  override readonly name = 'TopicNotFoundError';
  constructor(readonly topic: string) {
    super(`topic ${topic} does not exist (the brokers do not create topics on demand); create it first`);
  }
}

/**
 * Connects a kafkajs producer (default partitioner, not idempotent, no topic auto-creation, `acks: -1`
 * on every send) and checks that `topic` exists. kafkajs logs go to `log`.
 *
 * kafkajs is loaded here, not at the top of this module: the OpenTelemetry kafkajs instrumentation
 * patches kafkajs when it is first required, so start telemetry (`startTelemetry`) before calling this,
 * or the messages carry no `traceparent`/`baggage`.
 */
export async function connectSender(options: ConnectOptions): Promise<EventSender> {
  // require(), not import(): with module Node16, TypeScript emits import() as a native ESM import, and
  // that bypasses the require hook through which the instrumentation patches kafkajs.
  const { Kafka, Partitioners } = require('kafkajs') as typeof import('kafkajs');
  const { log } = options;
  // The partitioner is wrapped to note where each message goes: a produce response only gives the
  // base offset per partition, and messages of one partition get consecutive offsets in send order.
  const partitionOf = new WeakMap<Message, number>();
  const createPartitioner: typeof Partitioners.DefaultPartitioner = (...args) => {
    const partition = Partitioners.DefaultPartitioner(...args);
    return (partitionArgs) => {
      const chosen = partition(partitionArgs);
      partitionOf.set(partitionArgs.message, chosen);
      return chosen;
    };
  };
  const kafka = new Kafka({
    clientId: options.kafka.clientId,
    brokers: options.kafka.brokers,
    ...kafkaSecurityOptions(options.kafka.security),
    logLevel: kafkajsLogLevel(options.logLevel),
    logCreator: kafkajsLogCreator(log),
    // Few retries inside kafkajs: publishEvents retries (and says so) for as long as configured.
    retry: { retries: 2, initialRetryTime: 250, maxRetryTime: 2000 },
  });
  const retryTimeoutMs = options.retryTimeoutMs ?? 0;
  const brokers = options.kafka.brokers.join(',');
  const onRetry = (what: string) => (error: unknown, attempt: number) =>
    log.warn({ brokers, attempt, error: (error as Error).message }, `${what} failed; retrying`);

  // Refused credentials or TLS (or a TLS listener closing a plaintext connection): stop at once,
  // naming the settings, instead of retrying for retryTimeoutMs.
  await checkKafkaAccess(
    new Kafka({
      clientId: options.kafka.clientId,
      brokers: options.kafka.brokers,
      ...kafkaSecurityOptions(options.kafka.security),
      logLevel: 0, // kafkajs's NOTHING: the check's own error says it all
      connectionTimeout: 3000,
      retry: { retries: 0 },
    }).admin({ retry: { retries: 0 } }),
  );
  // Checking first turns a missing topic into one clear error instead of ~10 s of retried sends.
  let topics: string[];
  try {
    topics = await retryFor(
      retryTimeoutMs,
      async () => {
        const admin = kafka.admin();
        try {
          await admin.connect();
          return await admin.listTopics();
        } finally {
          await admin.disconnect();
        }
      },
      onRetry('reaching Kafka'),
    );
  } catch (error) {
    throw new Error(`cannot reach Kafka at ${brokers} (KAFKA_BROKERS): ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!topics.includes(options.topic)) throw new TopicNotFoundError(options.topic);

  const producer = kafka.producer({ createPartitioner, idempotent: false, allowAutoTopicCreation: false });
  await retryFor(retryTimeoutMs, () => producer.connect(), onRetry('connecting the producer'));
  return {
    async send(topic, messages) {
      const metadata = await producer.send({ topic, acks: -1, messages });
      const baseOffsets = new Map(metadata.map((m) => [m.partition, m.baseOffset ?? m.offset]));
      const sentBefore = new Map<number, bigint>();
      return messages.map((message) => {
        const partition = partitionOf.get(message);
        const base = partition === undefined ? undefined : baseOffsets.get(partition);
        if (partition === undefined || base === undefined) {
          throw new Error(
            `no partition/offset in the broker's response for a message (key ${String(message.key)})`,
          );
        }
        const index = sentBefore.get(partition) ?? 0n;
        sentBefore.set(partition, index + 1n);
        return { partition, offset: (BigInt(base) + index).toString() };
      });
    },
    disconnect: () => producer.disconnect(),
  };
}
