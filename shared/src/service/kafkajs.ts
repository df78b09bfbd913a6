import type { LogLevel } from '../config';

/**
 * kafkajs's log entry, described structurally so that this library does not depend on kafkajs
 * (kafkajs `LogEntry`: `{ namespace, level, label, log: { message, timestamp, ...fields } }`).
 */
export interface KafkajsLogEntry {
  namespace: string;
  level: number;
  label?: string;
  log: { message: string; timestamp?: string; [field: string]: unknown };
}

/** kafkajs's numeric log levels (its `logLevel` enum, whose values are fixed by kafkajs). */
export const KAFKAJS_LOG_LEVEL = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const;

/** What the bridge writes to: a pino logger fits, so does any `(fields, message)` logger. */
export interface FieldLogger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/**
 * The kafkajs log level for a service log level. kafkajs's INFO is chatty (every join, every
 * disconnect) and its DEBUG logs each protocol request, so a service at `info` gets kafkajs warnings
 * and errors, at `debug` kafkajs's info, and only `trace` turns on kafkajs's DEBUG.
 */
export function kafkajsLogLevel(level: LogLevel): number {
  switch (level) {
    case 'silent':
      return KAFKAJS_LOG_LEVEL.NOTHING;
    case 'fatal':
    case 'error':
      return KAFKAJS_LOG_LEVEL.ERROR;
    case 'trace':
      return KAFKAJS_LOG_LEVEL.DEBUG;
    case 'debug':
      return KAFKAJS_LOG_LEVEL.INFO;
    default:
      return KAFKAJS_LOG_LEVEL.WARN;
  }
}

/**
 * A kafkajs `logCreator` that writes kafkajs's log lines into `logger`, with `component:
 * kafkajs.<namespace>` and kafkajs's fields (its own timestamp is dropped: the logger has one).
 *
 * @example
 * ```ts
 * new Kafka({ brokers, logLevel: kafkajsLogLevel(level), logCreator: kafkajsLogCreator(logger) });
 * ```
 */
export function kafkajsLogCreator(logger: FieldLogger): () => (entry: KafkajsLogEntry) => void {
  return () =>
    ({ namespace, level, log: { message, timestamp: _timestamp, ...fields } }) => {
      const line = { component: namespace ? `kafkajs.${namespace}` : 'kafkajs', ...fields };
      if (level <= KAFKAJS_LOG_LEVEL.ERROR) logger.error(line, message);
      else if (level === KAFKAJS_LOG_LEVEL.WARN) logger.warn(line, message);
      else if (level === KAFKAJS_LOG_LEVEL.INFO) logger.info(line, message);
      else logger.debug(line, message);
    };
}

/** What a failed Kafka request means for whoever retries it. */
export type KafkaErrorReason =
  /** The record (or batch) exceeds the topic's `max.message.bytes`. */
  | 'too-large'
  /** The topic does not exist. */
  | 'unknown-topic'
  /** Not allowed to write, read or administer. */
  | 'not-authorized'
  /** The broker (or the client) rejects the request itself: validation, policy, an invalid name. */
  | 'invalid-record'
  /** No broker answered, a leader moved, a connection dropped, a timeout: worth retrying. */
  | 'unavailable';

/** Kafka error codes (kafkajs's `type` names) that retrying the same request cannot fix. */
const PERMANENT: Readonly<Record<string, KafkaErrorReason>> = {
  MESSAGE_TOO_LARGE: 'too-large',
  RECORD_LIST_TOO_LARGE: 'too-large',
  TOPIC_AUTHORIZATION_FAILED: 'not-authorized',
  GROUP_AUTHORIZATION_FAILED: 'not-authorized',
  CLUSTER_AUTHORIZATION_FAILED: 'not-authorized',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'not-authorized',
  SASL_AUTHENTICATION_FAILED: 'not-authorized',
  INVALID_RECORD: 'invalid-record',
  CORRUPT_MESSAGE: 'invalid-record',
  INVALID_TOPIC_EXCEPTION: 'invalid-record',
  INVALID_REQUIRED_ACKS: 'invalid-record',
  POLICY_VIOLATION: 'invalid-record',
  INVALID_REPLICATION_FACTOR: 'invalid-record',
  INVALID_PARTITIONS: 'invalid-record',
  INVALID_CONFIG: 'invalid-record',
};

/**
 * Errors kafkajs marks non-retriable that an outage causes: a refused connection, and no broker
 * answering the group-coordinator lookup while the broker restarts (tulios/kafkajs#1630, #1445).
 */
const OUTAGES_KAFKAJS_CALLS_FINAL: ReadonlySet<string> = new Set([
  'KafkaJSConnectionError',
  'KafkaJSGroupCoordinatorNotFound',
]);

/** A kafkajs error, read structurally: its `retriable` flag, the broker's error `type`, its `cause`. */
interface KafkajsErrorShape extends Error {
  retriable?: boolean;
  type?: string;
}

/** True for errors kafkajs throws (all of its error classes are named `KafkaJS…`). */
export function isKafkajsError(error: unknown): error is KafkajsErrorShape {
  return error instanceof Error && error.name.startsWith('KafkaJS');
}

/** The innermost cause: kafkajs wraps the broker's answer in `KafkaJSNumberOfRetriesExceeded` and friends. */
function rootCause(error: Error): KafkajsErrorShape {
  let current = error;
  for (let depth = 0; depth < 10 && current.cause instanceof Error; depth++) current = current.cause;
  return current;
}

/**
 * What a kafkajs error means: permanent refusals (too large, not authorized, invalid) apart from
 * everything worth retrying. kafkajs reports "retries exhausted" as non-retriable even when what it
 * retried was an outage; the root cause decides here, as kafkajs's own consumer restart logic does.
 */
export function classifyKafkajsError(error: KafkajsErrorShape): {
  reason: KafkaErrorReason;
  retriable: boolean;
  message: string;
} {
  const root = rootCause(error);
  const message = root.message;
  if (typeof root.type === 'string') {
    const reason = PERMANENT[root.type];
    if (reason) return { reason, retriable: false, message };
    if (root.type === 'UNKNOWN_TOPIC_OR_PARTITION')
      return { reason: 'unknown-topic', retriable: true, message };
  }
  if (root.name === 'KafkaJSTopicMetadataNotLoaded')
    return { reason: 'unknown-topic', retriable: true, message };
  const retriable = root.retriable !== false || OUTAGES_KAFKAJS_CALLS_FINAL.has(root.name);
  return { reason: retriable ? 'unavailable' : 'invalid-record', retriable, message };
}
