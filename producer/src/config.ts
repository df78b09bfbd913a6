import {
  type KafkaConfig,
  kafkaSchema,
  type LoadConfigOptions,
  loadConfig,
  type TelemetryConfig,
  telemetrySchema,
} from '@sandbox-routing/service-kit';
import type { Schema } from 'convict';
import { DEFAULT_RETRY_TIMEOUT_MS } from './publish';

export interface ProducerConfig {
  kafka: KafkaConfig;
  publish: {
    /** How long a failing connect or send is retried before `publish` gives up. */
    retryTimeoutMs: number;
  };
  telemetry: TelemetryConfig;
}

export const producerSchema: Schema<ProducerConfig> = {
  kafka: kafkaSchema({ clientId: 'producer' }),
  publish: {
    retryTimeoutMs: {
      doc: 'How long publish retries a failing connect or send (a broker restart, a leader change) before it gives up.',
      format: 'positive-ms',
      default: DEFAULT_RETRY_TIMEOUT_MS,
      env: 'PUBLISH_RETRY_TIMEOUT_MS',
    },
  },
  telemetry: telemetrySchema({ serviceName: 'producer' }),
};

export function loadProducerConfig(options?: LoadConfigOptions): ProducerConfig {
  return loadConfig(producerSchema, options);
}
