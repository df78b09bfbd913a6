import {
  type LoadConfigOptions,
  loadConfig,
  type RouteserverConfig,
  resultsTopicSchema,
  type SignadotIdentityConfig,
  type TemporalConfig,
} from '@sandbox-routing/service-kit';
import type { Schema } from 'convict';
import { type ProducerConfig, producerSchema } from '../config';
import { consoleSchema } from '../console/config';

/**
 * What `producer load` reads: the producer's settings, the results topic it learns outcomes from, the
 * routeserver and baseline workloads it looks sandboxes up with, under the same variables as the
 * console (KAFKA_RESULTS_TOPIC, SIGNADOT_ROUTESERVER_URL, WORKER_BASELINE_NAME, ...), and the ingress's
 * consumer group and Temporal, which it asks what work is waiting and what became of unfinished events.
 */
export interface LoadCommandConfig extends ProducerConfig {
  results: { topic: string };
  ingress: { consumerGroup: string };
  temporal: TemporalConfig;
  routeserver: Pick<RouteserverConfig, 'url' | 'requestTimeoutMs'>;
  signadot: Pick<SignadotIdentityConfig, 'baselineKind' | 'baselineNamespace'>;
  baselines: { workerBaselineName: string; ingressBaselineName: string };
}

export const loadCommandSchema: Schema<LoadCommandConfig> = {
  ...producerSchema,
  results: { topic: resultsTopicSchema() },
  ingress: {
    consumerGroup: {
      doc: "The baseline ingress's consumer group on KAFKA_TOPIC, whose lag load checks before sending.",
      format: 'kafka-name',
      default: 'ingress',
      env: 'KAFKA_CONSUMER_GROUP',
    },
  },
  temporal: consoleSchema.temporal,
  routeserver: {
    url: consoleSchema.routeserver.url,
    requestTimeoutMs: consoleSchema.routeserver.requestTimeoutMs,
  },
  signadot: consoleSchema.signadot,
  baselines: {
    workerBaselineName: consoleSchema.console.workerBaselineName,
    ingressBaselineName: consoleSchema.console.ingressBaselineName,
  },
};

/**
 * Loads and validates the configuration of `producer load` (defaults, then `CONFIG_FILE`, then env).
 * @throws ConfigError naming each invalid setting and its environment variable
 */
export function loadLoadCommandConfig(options?: LoadConfigOptions): LoadCommandConfig {
  return loadConfig(loadCommandSchema, options);
}
