import {
  type KafkaConfig,
  kafkaSchema,
  type LoadConfigOptions,
  loadConfig,
  type TelemetryConfig,
  telemetrySchema,
} from '@sandbox-routing/shared';
import type { Schema } from 'convict';

export interface ProducerConfig {
  kafka: KafkaConfig;
  telemetry: TelemetryConfig;
}

export const producerSchema: Schema<ProducerConfig> = {
  kafka: kafkaSchema({ clientId: 'producer' }),
  telemetry: telemetrySchema({ serviceName: 'producer' }),
};

export function loadProducerConfig(options?: LoadConfigOptions): ProducerConfig {
  return loadConfig(producerSchema, options);
}
