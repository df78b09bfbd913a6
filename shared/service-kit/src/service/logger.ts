import { isSpanContextValid, trace } from '@opentelemetry/api';
import { currentRoutingKey, currentRoutingOwner, instanceLabel } from '@sandbox-routing/core';
import pino, { type Logger } from 'pino';
import type { SignadotIdentityConfig, TelemetryConfig } from '../config';

/**
 * Fields of the work in hand, added to every line written inside it: the routing key and owner of
 * the enclosing `runWithRoutingKey` (else the key in the active OpenTelemetry baggage), and the active
 * span's trace and span ids (`trace_id`, `span_id`, the names OpenTelemetry and Temporal use). A
 * line's own fields win over these.
 */
export function workContextFields(): Record<string, string> {
  const fields: Record<string, string> = {};
  const routingKey = currentRoutingKey();
  if (routingKey !== undefined) fields.routingKey = routingKey;
  const owner = currentRoutingOwner();
  if (owner !== undefined) fields.owner = owner;
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext && isSpanContextValid(spanContext)) {
    fields.trace_id = spanContext.traceId;
    fields.span_id = spanContext.spanId;
  }
  return fields;
}

export interface LoggerOptions {
  /**
   * Write to stderr instead of stdout: for command-line tools whose stdout carries their result
   * (a summary, a JSON report) for scripts.
   */
  stderr?: boolean;
  /** Where the lines go instead (tests capture them); wins over `stderr`. */
  destination?: pino.DestinationStream;
}

/**
 * Structured JSON logs (pino). Every line names the service and the instance (`baseline` or the
 * sandbox), so logs of a baseline and its forks can be told apart when they are collected together,
 * and every line written while handling an event its routing key, owner and trace id
 * ({@link workContextFields}).
 */
export function createLogger(
  telemetry: Pick<TelemetryConfig, 'logLevel' | 'serviceName'>,
  identity?: Pick<SignadotIdentityConfig, 'sandboxName'>,
  options: LoggerOptions = {},
): Logger {
  return pino(
    {
      level: telemetry.logLevel,
      base: {
        service: telemetry.serviceName,
        ...(identity ? { instance: instanceLabel(identity.sandboxName) } : {}),
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: workContextFields,
    },
    options.destination ?? (options.stderr ? pino.destination({ fd: 2, sync: true }) : undefined),
  );
}

export type { Logger };

/**
 * Writes process warnings (`process.emitWarning`: a MaxListenersExceededWarning, a deprecation) as JSON
 * lines through `logger`, instead of Node's plain text on stderr: a service's output stays one JSON
 * line per event. Replaces the listeners that printed them so far; returns a function that puts them back.
 */
export function logProcessWarnings(logger: Pick<Logger, 'warn'>): () => void {
  const printers = process.listeners('warning');
  for (const printer of printers) process.off('warning', printer);
  const onWarning = (warning: Error & { code?: string }) => {
    logger.warn(
      { warning: warning.name, ...(warning.code ? { code: warning.code } : {}), stack: warning.stack },
      warning.message,
    );
  };
  process.on('warning', onWarning);
  return () => {
    process.off('warning', onWarning);
    for (const printer of printers) process.on('warning', printer);
  };
}
