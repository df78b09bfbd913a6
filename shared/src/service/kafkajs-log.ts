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
