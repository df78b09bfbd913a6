import {
  type HttpConfig,
  httpSchema,
  type LoadConfigOptions,
  loadConfig,
  type RouteserverConfig,
  routeserverSchema,
  type SignadotIdentityConfig,
  signadotIdentitySchema,
  type TelemetryConfig,
  type TemporalConfig,
  telemetrySchema,
  temporalSchema,
} from '@sandbox-routing/shared';
import type { Schema } from 'convict';

export interface WorkerConfig {
  temporal: TemporalConfig;
  routeserver: RouteserverConfig;
  signadot: SignadotIdentityConfig;
  telemetry: TelemetryConfig;
  http: HttpConfig;
}

export const workerSchema: Schema<WorkerConfig> = {
  temporal: temporalSchema(),
  routeserver: routeserverSchema(),
  signadot: signadotIdentitySchema({ baselineName: 'worker' }),
  telemetry: telemetrySchema({ serviceName: 'worker' }),
  http: httpSchema({ port: 8082 }),
};

export function loadWorkerConfig(options?: LoadConfigOptions): WorkerConfig {
  return loadConfig(workerSchema, options);
}
