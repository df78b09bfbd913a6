import type { Schema } from 'convict';
import { type ApplicationConfig, applicationSchema } from './application';
import {
  type HttpConfig,
  httpSchema,
  type RouteserverConfig,
  routeserverSchema,
  type SignadotIdentityConfig,
  signadotIdentitySchema,
  type TelemetryConfig,
  type TemporalConfig,
  telemetrySchema,
  temporalSchema,
} from './parts';
import { type TrailConfig, trailSchema } from './trail';

/**
 * The settings every routed Temporal service has (the ingress and the worker): Temporal, the
 * routeserver, the workload's Signadot identity, the trail, telemetry and its health/metrics server.
 */
export interface RoutedServiceConfig {
  application: ApplicationConfig;
  temporal: TemporalConfig;
  routeserver: RouteserverConfig;
  signadot: SignadotIdentityConfig;
  trail: TrailConfig;
  telemetry: TelemetryConfig;
  http: HttpConfig;
}

/**
 * The schema of {@link RoutedServiceConfig} for the service named `name` (its baseline workload
 * and telemetry service name), serving health and metrics on `port` by default.
 */
export function routedServiceSchema(defaults: { name: string; port: number }): Schema<RoutedServiceConfig> {
  return {
    application: applicationSchema(),
    temporal: temporalSchema(),
    routeserver: routeserverSchema(),
    signadot: signadotIdentitySchema({ baselineName: defaults.name }),
    trail: trailSchema(),
    telemetry: telemetrySchema({ serviceName: defaults.name }),
    http: httpSchema({ port: defaults.port }),
  };
}
