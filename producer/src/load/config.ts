import {
  type LoadConfigOptions,
  loadConfig,
  type RouteserverConfig,
  resultsTopicSchema,
  type SignadotIdentityConfig,
} from '@sandbox-routing/shared';
import type { Schema } from 'convict';
import { type ProducerConfig, producerSchema } from '../config';
import { consoleSchema } from '../console/config';

/**
 * What `producer load` reads: the producer's settings, the results topic it learns outcomes from, and
 * the routeserver and baseline workloads it looks sandboxes up with, under the same variables as the
 * console (KAFKA_RESULTS_TOPIC, SIGNADOT_ROUTESERVER_URL, WORKER_BASELINE_NAME, ...).
 */
export interface LoadCommandConfig extends ProducerConfig {
  results: { topic: string };
  routeserver: Pick<RouteserverConfig, 'url' | 'requestTimeoutMs'>;
  signadot: Pick<SignadotIdentityConfig, 'baselineKind' | 'baselineNamespace'>;
  baselines: { workerBaselineName: string; ingressBaselineName: string };
}

export const loadCommandSchema: Schema<LoadCommandConfig> = {
  ...producerSchema,
  results: { topic: resultsTopicSchema() },
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
