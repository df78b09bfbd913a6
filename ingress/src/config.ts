import {
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
  type TemporalConfig,
  telemetrySchema,
  temporalSchema,
} from '@sandbox-routing/shared';
import type { Schema } from 'convict';

export interface IngressConfig {
  kafka: KafkaConfig & {
    consumerGroup: string;
    maxEventBytes: number;
    startFrom: 'default' | 'earliest' | 'latest';
  };
  temporal: TemporalConfig;
  routeserver: RouteserverConfig;
  signadot: SignadotIdentityConfig;
  /** The worker's baseline workload: door routing asks who owns a key for *it*. */
  workerBaseline: { name: string };
  /** Record SignadotRoutingKey/SignadotSandbox search attributes on started workflows. */
  recordSearchAttributes: boolean;
  telemetry: TelemetryConfig;
  http: HttpConfig;
}

export const ingressSchema: Schema<IngressConfig> = {
  kafka: {
    ...kafkaSchema({ clientId: 'ingress' }),
    consumerGroup: {
      doc: 'Base consumer group; a sandboxed ingress appends "-<sandbox name>".',
      format: 'kafka-name',
      default: 'ingress',
      env: 'KAFKA_CONSUMER_GROUP',
    },
    maxEventBytes: {
      doc: 'Events larger than this go to the dead-letter topic.',
      format: 'positive-ms',
      default: 256 * 1024,
      env: 'INGRESS_MAX_EVENT_BYTES',
    },
    startFrom: {
      doc:
        "Where a new consumer group starts: 'default' (baseline: earliest, so nothing is missed; " +
        "sandbox: latest, so a fork never re-runs history the baseline already handled), 'earliest', 'latest'.",
      format: ['default', 'earliest', 'latest'],
      default: 'default',
      env: 'INGRESS_START_FROM',
    },
  },
  temporal: temporalSchema(),
  routeserver: routeserverSchema(),
  signadot: signadotIdentitySchema({ baselineName: 'ingress' }),
  workerBaseline: {
    name: {
      doc: "Name of the worker's baseline Deployment (same namespace and kind as this one).",
      format: 'dns-subdomain',
      default: 'worker',
      env: 'WORKER_BASELINE_NAME',
    },
  },
  recordSearchAttributes: {
    doc: 'Record the SignadotRoutingKey and SignadotSandbox search attributes (register them on the namespace).',
    format: 'strict-boolean',
    default: true,
    env: 'INGRESS_RECORD_SEARCH_ATTRIBUTES',
  },
  telemetry: telemetrySchema({ serviceName: 'ingress' }),
  http: httpSchema({ port: 8081 }),
};

export function loadIngressConfig(options?: LoadConfigOptions): IngressConfig {
  return loadConfig(ingressSchema, options);
}
