import { kafkaAccessProblem } from './access';

/** A service's log level (pino's names), which the bridge maps to kafkajs's. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

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

export interface KafkajsLogOptions {
  /**
   * A kafkajs warning or error that repeats is written once per window, with how often it came
   * meanwhile, and a line says when it has not come for a whole window (it cleared). Default 60 s.
   */
  repeatWindowMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * kafkajs's words for what a broker restart, a leader election, a rebalance or two creators of one
 * topic cause: expected and transient, so warnings, not errors (the services report an unreachable
 * Kafka themselves, once, in readiness and a log line). Matched on kafkajs's message and error text
 * (its log entries carry no error objects): its connection errors, its consumer's restarts, and the
 * broker's answers kafkajs retries while a broker restarts or a group rebalances (kafkajs's own
 * wording, `src/protocol/error.js`).
 */
const TRANSIENT_KAFKAJS = new RegExp(
  [
    // connections
    'ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EPIPE',
    'Connection (error|timeout)|[Cc]onnection closed|Closed connection|Failed to connect to seed broker',
    '[Rr]equest .*timed out|The request timed out|The server disconnected before a response was received',
    // the consumer crashing on those and restarting
    'Restarting the consumer|NumberOfRetriesExceeded|Failed to find group coordinator',
    // a broker (re)starting, leaders moving
    'The coordinator is loading|The group coordinator is not available|This is not the correct coordinator',
    'This is not the correct controller|This server does not host this topic-partition',
    'There is no leader for this topic-partition|This server is not the leader for that topic-partition',
    'The replica is not available|The leader epoch in the request is (older|newer)|fetch session',
    'The leader high watermark has not caught up',
    // a rebalance
    'The group is rebalancing|The coordinator is not aware of this member|group generation id is not valid',
    // two creators of one topic (TOPIC_ALREADY_EXISTS)
    'Topic creation errors',
  ].join('|'),
);

/** One repeating kafkajs warning or error: the first line was written, later ones are counted. */
interface Repeating {
  level: 'error' | 'warn';
  component: string;
  message: string;
  /** When a line about it was last written. */
  writtenAt: number;
  lastSeenAt: number;
  /** Times it came since the last line written. */
  unwritten: number;
  total: number;
}

/**
 * A kafkajs `logCreator` that writes kafkajs's log lines into `logger`, with `component:
 * kafkajs.<namespace>` and kafkajs's fields (its own timestamp is dropped: the logger has one).
 *
 * Warnings and errors do not stream: a broker away for half a minute makes kafkajs log a connection
 * error or two per retry of every client. Each one (by component and message, numbers aside) is
 * written the first time, then at most once per `repeatWindowMs` with `repeated: <count>`, and once
 * more, as info with its total, after a window without it. The transient ones
 * ({@link TRANSIENT_KAFKAJS}: a broker away, a leader moving, a rebalance, a topic created twice) are
 * warnings, without kafkajs's stack; anything else stays an error.
 *
 * @example
 * ```ts
 * new Kafka({ brokers, logLevel: kafkajsLogLevel(level), logCreator: kafkajsLogCreator(logger) });
 * ```
 */
export function kafkajsLogCreator(
  logger: FieldLogger,
  options: KafkajsLogOptions = {},
): () => (entry: KafkajsLogEntry) => void {
  const windowMs = options.repeatWindowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const repeating = new Map<string, Repeating>();
  let sweeper: NodeJS.Timeout | undefined;

  /** Says which conditions cleared (none for a whole window); stops sweeping once none is left. */
  const sweep = () => {
    const time = now();
    for (const [key, condition] of repeating) {
      if (time - condition.lastSeenAt < windowMs) continue;
      repeating.delete(key);
      if (condition.total > 1) {
        logger.info(
          { component: condition.component, repeated: condition.unwritten, total: condition.total },
          `${condition.message} (not seen for ${Math.round(windowMs / 1000)} s; ${condition.total} times in all)`,
        );
      }
    }
    if (repeating.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };

  const warnOrError = (
    component: string,
    message: string,
    fields: Record<string, unknown>,
    isError: boolean,
  ) => {
    const text = `${message} ${typeof fields.error === 'string' ? fields.error : ''}`;
    const transient = TRANSIENT_KAFKAJS.test(text);
    const level: Repeating['level'] = isError && !transient ? 'error' : 'warn';
    // A transient condition's stack says nothing; an unexpected error keeps it.
    const { stack, ...rest } = fields;
    const line = { component, ...rest, ...(transient || stack === undefined ? {} : { stack }) };
    const key = `${component} ${level} ${message.replace(/\d+/g, '#')}`;
    const time = now();
    const seen = repeating.get(key);
    if (!seen) {
      repeating.set(key, {
        level,
        component,
        message,
        writtenAt: time,
        lastSeenAt: time,
        unwritten: 0,
        total: 1,
      });
      sweeper ??= setInterval(sweep, Math.max(1, Math.min(windowMs, 5000)));
      sweeper.unref();
      logger[level](line, message);
      return;
    }
    seen.total++;
    seen.unwritten++;
    seen.lastSeenAt = time;
    if (time - seen.writtenAt < windowMs) return;
    logger[level](
      { ...line, repeated: seen.unwritten },
      `${message} (${seen.unwritten} times since the last line)`,
    );
    seen.unwritten = 0;
    seen.writtenAt = time;
  };

  return () =>
    ({ namespace, level, log: { message, timestamp: _timestamp, ...fields } }) => {
      const component = namespace ? `kafkajs.${namespace}` : 'kafkajs';
      if (level <= KAFKAJS_LOG_LEVEL.WARN) {
        warnOrError(component, message, fields, level <= KAFKAJS_LOG_LEVEL.ERROR);
        return;
      }
      const line = { component, ...fields };
      if (level === KAFKAJS_LOG_LEVEL.INFO) logger.info(line, message);
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
  // Refused credentials or TLS fail the same way every time: not an outage (see ./access).
  const accessProblem = kafkaAccessProblem(error);
  if (accessProblem) return { reason: 'not-authorized', retriable: false, message: accessProblem };
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
