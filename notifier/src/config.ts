import {
  type ConsumerConfig,
  type ConsumerRetryConfig,
  consumerRetrySchema,
  consumerSchema,
  type HttpConfig,
  httpSchema,
  type KafkaConfig,
  kafkaSchema,
  type LoadConfigOptions,
  loadConfig,
  type RouteserverConfig,
  routeserverSchema,
  type SignadotIdentityConfig,
  signadotIdentitySchema,
  type TelemetryConfig,
  type TrailConfig,
  telemetrySchema,
  trailSchema,
} from '@sandbox-routing/service-kit';
import type { Schema } from 'convict';

/** The notifier: a decide-once consumer of the events topic in its own group; no Temporal. */
export interface NotifierConfig {
  kafka: KafkaConfig & ConsumerConfig & { maxEventBytes: number };
  routeserver: RouteserverConfig;
  signadot: SignadotIdentityConfig;
  /** Where its `consumer.decided` record of each event goes. */
  trail: TrailConfig;
  telemetry: TelemetryConfig;
  http: HttpConfig;
  retry: ConsumerRetryConfig;
  probeIntervalMs: number;
}

export const notifierSchema: Schema<NotifierConfig> = {
  kafka: {
    ...kafkaSchema({ clientId: 'notifier' }),
    ...consumerSchema({ group: 'notifier', envPrefix: 'NOTIFIER', handles: 'notifications' }),
    maxEventBytes: {
      doc: 'Events larger than this go to the dead-letter topic.',
      format: 'positive-bytes',
      default: 256 * 1024,
      env: 'NOTIFIER_MAX_EVENT_BYTES',
    },
  },
  routeserver: routeserverSchema(),
  signadot: signadotIdentitySchema({ baselineName: 'notifier' }),
  trail: trailSchema(),
  telemetry: telemetrySchema({ serviceName: 'notifier' }),
  http: httpSchema({ port: 8084 }),
  retry: consumerRetrySchema('NOTIFIER'),
  probeIntervalMs: {
    doc: 'How often the brokers are checked for /readyz; a check not answered within twice this fails.',
    format: 'positive-ms',
    default: 1000,
    env: 'NOTIFIER_PROBE_INTERVAL_MS',
  },
};

export function loadNotifierConfig(options?: LoadConfigOptions): NotifierConfig {
  return loadConfig(notifierSchema, options);
}
