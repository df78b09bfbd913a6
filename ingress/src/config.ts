import {
  type ConsumerConfig,
  type ConsumerRetryConfig,
  consumerRetrySchema,
  consumerSchema,
  type KafkaConfig,
  kafkaSchema,
  type LoadConfigOptions,
  loadConfig,
  type RoutedServiceConfig,
  routedServiceSchema,
} from '@sandbox-routing/service-kit';
import type { Schema } from 'convict';

export { parseTopicConfig } from '@sandbox-routing/service-kit';

export interface IngressConfig extends RoutedServiceConfig {
  kafka: KafkaConfig & ConsumerConfig & { maxEventBytes: number };
  /** The worker's baseline workload: door routing asks who owns a key for *it*. */
  workerBaseline: { name: string };
  /** Record SignadotRoutingKey/SignadotSandbox search attributes on started workflows. */
  recordSearchAttributes: boolean;
  retry: ConsumerRetryConfig;
  /** How often the brokers and Temporal are checked for readiness. */
  probeIntervalMs: number;
}

/** The ingress's convict schema; its `trail` is the `ingress.decided` record of each event. */
export const ingressSchema: Schema<IngressConfig> = {
  ...routedServiceSchema({ name: 'ingress', port: 8081 }),
  kafka: {
    ...kafkaSchema({ clientId: 'ingress' }),
    ...consumerSchema({ group: 'ingress', envPrefix: 'INGRESS', handles: 'workflow starts' }),
    maxEventBytes: {
      doc: 'Events larger than this go to the dead-letter topic.',
      format: 'positive-bytes',
      default: 256 * 1024,
      env: 'INGRESS_MAX_EVENT_BYTES',
    },
  },
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
  retry: consumerRetrySchema('INGRESS'),
  probeIntervalMs: {
    doc: 'How often the brokers and Temporal are checked for /readyz; a check not answered within twice this fails.',
    format: 'positive-ms',
    default: 1000,
    env: 'INGRESS_PROBE_INTERVAL_MS',
  },
};

export function loadIngressConfig(options?: LoadConfigOptions): IngressConfig {
  return loadConfig(ingressSchema, options);
}
