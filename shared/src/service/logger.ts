import pino, { type Logger } from 'pino';
import type { SignadotIdentityConfig, TelemetryConfig } from '../config';
import { instanceLabel } from '../routes/types';

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
 * sandbox), so logs of a baseline and its forks can be told apart when they are collected together.
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
    },
    options.destination ?? (options.stderr ? pino.destination({ fd: 2, sync: true }) : undefined),
  );
}

export type { Logger };
