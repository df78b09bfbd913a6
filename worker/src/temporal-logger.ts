import type { Logger as PinoLogger } from '@sandbox-routing/service-kit';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/worker';

const PINO_METHOD: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Sends the Temporal SDK's logs (worker state, bundling, workflow and activity logs) to the service's
 * pino logger, so one process writes one JSON log stream with the same service and instance fields.
 */
export function temporalLogger(logger: PinoLogger): TemporalLogger {
  const sdk = logger.child({ component: 'temporal' });
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const { error, ...rest } = meta ?? {};
    // pino serialises an Error only under `err`; under any other key it would print `{}`.
    const fields = error instanceof Error ? { ...rest, err: error } : (meta ?? {});
    sdk[PINO_METHOD[level]](fields, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
