import type { LogLevel, TelemetryConfig } from '@sandbox-routing/shared';

/**
 * The few log calls the publisher makes, in pino's `(fields, message)` form: a pino logger (such as
 * `createLogger` from shared) fits, and so does {@link createStderrLogger}.
 */
export interface PublishLog {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** pino's numeric levels, so these lines look like the services' logs to whatever collects them. */
const LEVELS: Readonly<Record<Exclude<LogLevel, 'silent'>, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/**
 * JSON log lines on stderr, in the services' pino format (`level`, ISO `time`, `service`, `msg`).
 * The CLI needs stderr: stdout carries the summary, which `--json` turns into a single JSON document
 * for scripts, and shared's `createLogger` writes to stdout.
 */
export function createStderrLogger(
  telemetry: Pick<TelemetryConfig, 'logLevel' | 'serviceName'>,
  write: (line: string) => void = (line) => process.stderr.write(line),
): PublishLog {
  const threshold = telemetry.logLevel === 'silent' ? Number.POSITIVE_INFINITY : LEVELS[telemetry.logLevel];
  const at =
    (level: number) =>
    (fields: object, message: string): void => {
      if (level < threshold) return;
      const line = {
        level,
        time: new Date().toISOString(),
        service: telemetry.serviceName,
        ...fields,
        msg: message,
      };
      write(`${JSON.stringify(line)}\n`);
    };
  return { debug: at(LEVELS.debug), info: at(LEVELS.info), warn: at(LEVELS.warn), error: at(LEVELS.error) };
}
