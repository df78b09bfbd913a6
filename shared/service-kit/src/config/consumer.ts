import type { Schema } from 'convict';

/** Settings of the forward topics a baseline consumer creates on demand (`<topic>.<group>.sandbox.<name>`). */
export interface ForwardTopicConfig {
  partitions: number;
  replicationFactor: number;
  /** Topic-level settings, `name=value` pairs separated by commas. */
  config: string;
}

/** A decide-once consumer's settings (`@sandbox-routing/kafka`), beside the Kafka connection's. */
export interface ConsumerConfig {
  consumerGroup: string;
  partitionsConcurrently: number;
  /** Records of one partition in hand at once; same-key records stay in order. */
  maxInFlight: number;
  sandboxTopic: ForwardTopicConfig;
}

export interface ConsumerRetryConfig {
  initialDelayMs: number;
  maxDelayMs: number;
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

/**
 * The consumer part, to spread into a service's `kafka` schema. `envPrefix` names the service's own
 * settings (`INGRESS` → `INGRESS_MAX_IN_FLIGHT`); the group is `KAFKA_CONSUMER_GROUP` for every service
 * (one consumer per process). `handles` says what the service does with a record, for the docs.
 */
export function consumerSchema(defaults: {
  group: string;
  envPrefix: string;
  handles: string;
}): Schema<ConsumerConfig> {
  const env = (name: string) => `${defaults.envPrefix}_${name}`;
  return {
    consumerGroup: {
      doc: 'Consumer group of the baseline (reads the source topic); a fork uses "<group>-<sandbox name>" on its forward topic.',
      format: 'kafka-name',
      default: defaults.group,
      env: 'KAFKA_CONSUMER_GROUP',
    },
    partitionsConcurrently: {
      doc: `Partitions handled at the same time, each up to ${env('MAX_IN_FLIGHT')} records at once (more than the partitions this instance holds changes nothing).`,
      format: 'positive-int',
      default: 3,
      env: env('PARTITIONS_CONCURRENTLY'),
    },
    maxInFlight: {
      doc:
        `Records of one partition in hand at once (${defaults.handles}, forwards, dead letters). Records with the ` +
        'same Kafka key are still handled one after the other, in offset order; a teardown fence alone. ' +
        'The commit never passes a record not done. 1: one record at a time.',
      format: 'positive-int',
      default: 32,
      env: env('MAX_IN_FLIGHT'),
    },
    sandboxTopic: {
      partitions: {
        doc: 'Partitions of each forward topic the baseline creates (<topic>.<group>.sandbox.<sandbox name>).',
        format: 'positive-int',
        default: 3,
        env: env('SANDBOX_TOPIC_PARTITIONS'),
      },
      replicationFactor: {
        doc: 'Replication factor of each forward topic (at most the number of brokers).',
        format: 'positive-int',
        default: 1,
        env: env('SANDBOX_TOPIC_REPLICATION_FACTOR'),
      },
      config: {
        doc:
          'Topic settings of each forward topic, name=value pairs separated by commas. Keep max.message.bytes ' +
          "at least the source topic's: forwarded records are copied whole.",
        format: (value: unknown) => {
          if (typeof value !== 'string') throw new Error('must be name=value pairs separated by commas');
          parseTopicConfig(value);
        },
        default: 'retention.ms=604800000',
        env: env('SANDBOX_TOPIC_CONFIG'),
      },
    },
  };
}

/** Back-off of a record that cannot be handled yet (a dependency away). */
export function consumerRetrySchema(envPrefix: string): Schema<ConsumerRetryConfig> {
  return {
    initialDelayMs: {
      doc: 'First back-off when a record cannot be handled yet (a dependency, the brokers or the routeserver away); doubles per attempt.',
      format: 'positive-ms',
      default: 200,
      env: `${envPrefix}_RETRY_INITIAL_DELAY_MS`,
    },
    maxDelayMs: {
      doc: 'Longest back-off between attempts at one record.',
      format: 'positive-ms',
      default: 5000,
      env: `${envPrefix}_RETRY_MAX_DELAY_MS`,
    },
  };
}
