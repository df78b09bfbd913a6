import pino, { type Logger } from 'pino';
import type { SignadotIdentityConfig, TelemetryConfig } from '../config';
import { instanceLabel } from '../routes/types';

/**
 * Structured JSON logs (pino). Every line names the service and the instance (`baseline` or the
 * sandbox), so logs of a baseline and its forks can be told apart when they are collected together.
 */
export function createLogger(telemetry: TelemetryConfig, identity?: SignadotIdentityConfig): Logger {
  return pino({
    level: telemetry.logLevel,
    base: {
      service: telemetry.serviceName,
      ...(identity ? { instance: instanceLabel(identity.sandboxName) } : {}),
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export type { Logger };
