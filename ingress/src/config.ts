import {
  type KafkaConfig,
  kafkaSchema,
  type LoadConfigOptions,
  loadConfig,
  type RoutedServiceConfig,
  routedServiceSchema,
} from '@sandbox-routing/shared';
import type { Schema } from 'convict';

/** Settings of the sandbox topics the baseline ingress creates on demand (`<topic>.sandbox.<name>`). */
export interface SandboxTopicConfig {
  partitions: number;
  replicationFactor: number;
  /** Topic-level settings, `name=value` pairs separated by commas. */
  config: string;
}

export interface IngressConfig extends RoutedServiceConfig {
  kafka: KafkaConfig & {
    consumerGroup: string;
    partitionsConcurrently: number;
    /** Records of one partition in hand at once (workflow starts, forwards); same-key records stay in order. */
    maxInFlight: number;
    maxEventBytes: number;
    sandboxTopic: SandboxTopicConfig;
  };
  /** The worker's baseline workload: door routing asks who owns a key for *it*. */
  workerBaseline: { name: string };
  /** Record SignadotRoutingKey/SignadotSandbox search attributes on started workflows. */
  recordSearchAttributes: boolean;
  retry: { initialDelayMs: number; maxDelayMs: number };
  /** How often the brokers and Temporal are checked for readiness. */
  probeIntervalMs: number;
}

const TOPIC_CONFIG_ENTRY = /^[a-z0-9.]+=[^,=\s]+$/;

/**
 * `retention.ms=604800000,max.message.bytes=1048588` → `{ 'retention.ms': '604800000', … }`.
 * @throws Error naming the entry that is not `name=value`
 */
export function parseTopicConfig(text: string): Record<string, string> {
  const config: Record<string, string> = {};
  for (const entry of text.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    if (!TOPIC_CONFIG_ENTRY.test(entry)) throw new Error(`"${entry}" is not name=value`);
    const eq = entry.indexOf('=');
    config[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return config;
}

/** The ingress's convict schema; its `trail` is the `ingress.decided` record of each event. */
export const ingressSchema: Schema<IngressConfig> = {
  ...routedServiceSchema({ name: 'ingress', port: 8081 }),
  kafka: {
    ...kafkaSchema({ clientId: 'ingress' }),
    consumerGroup: {
      doc: 'Consumer group of the baseline (reads the events topic); a fork uses "<group>-<sandbox name>" on its sandbox topic.',
      format: 'kafka-name',
      default: 'ingress',
      env: 'KAFKA_CONSUMER_GROUP',
    },
    partitionsConcurrently: {
      doc:
        'Partitions handled at the same time, each up to INGRESS_MAX_IN_FLIGHT records at once (more than ' +
        'the partitions this instance holds changes nothing).',
      format: 'positive-ms',
      default: 3,
      env: 'INGRESS_PARTITIONS_CONCURRENTLY',
    },
    maxInFlight: {
      doc:
        'Records of one partition in hand at once (workflow starts, forwards, dead letters). Records with the ' +
        'same Kafka key are still handled one after the other, in offset order; a teardown fence alone. ' +
        'The commit never passes a record not done. 1: one record at a time.',
      format: 'positive-ms',
      default: 32,
      env: 'INGRESS_MAX_IN_FLIGHT',
    },
    maxEventBytes: {
      doc: 'Events larger than this go to the dead-letter topic.',
      format: 'positive-ms',
      default: 256 * 1024,
      env: 'INGRESS_MAX_EVENT_BYTES',
    },
    sandboxTopic: {
      partitions: {
        doc: 'Partitions of each sandbox topic the baseline creates (<topic>.sandbox.<sandbox name>).',
        format: 'positive-ms',
        default: 3,
        env: 'INGRESS_SANDBOX_TOPIC_PARTITIONS',
      },
      replicationFactor: {
        doc: 'Replication factor of each sandbox topic (at most the number of brokers).',
        format: 'positive-ms',
        default: 1,
        env: 'INGRESS_SANDBOX_TOPIC_REPLICATION_FACTOR',
      },
      config: {
        doc:
          'Topic settings of each sandbox topic, name=value pairs separated by commas. Keep max.message.bytes ' +
          "at least the events topic's: forwarded records are copied whole.",
        format: (value: unknown) => {
          if (typeof value !== 'string') throw new Error('must be name=value pairs separated by commas');
          parseTopicConfig(value);
        },
        default: 'retention.ms=604800000',
        env: 'INGRESS_SANDBOX_TOPIC_CONFIG',
      },
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
  retry: {
    initialDelayMs: {
      doc: 'First back-off when an event cannot be handled yet (Temporal, brokers or routeserver away); doubles per attempt.',
      format: 'positive-ms',
      default: 200,
      env: 'INGRESS_RETRY_INITIAL_DELAY_MS',
    },
    maxDelayMs: {
      doc: 'Longest back-off between attempts at one event.',
      format: 'positive-ms',
      default: 5000,
      env: 'INGRESS_RETRY_MAX_DELAY_MS',
    },
  },
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
