import {
  type LoadConfigOptions,
  loadConfig,
  type RouteserverConfig,
  resultsTopicSchema,
  routeserverSchema,
  type SignadotIdentityConfig,
  signadotIdentitySchema,
  type TemporalConfig,
  temporalSchema,
} from '@sandbox-routing/service-kit';
import type { Schema } from 'convict';
import { type ProducerConfig, producerSchema } from '../config';

/** Settings only the console has. */
export interface ConsoleSettings {
  /** Bind address: loopback unless told otherwise (`0.0.0.0` in a container). */
  host: string;
  port: number;
  /** Token requests must carry (required on a non-loopback bind); secret. */
  token: string;
  /** File holding the token (a mounted Secret); wins over `token`. */
  tokenFile: string;
  /** Comma-separated extra Host names (and Origins) served; `*.suffix` wildcards. */
  allowedHosts: string;
  /** Trail records of each results-topic partition read back at start (recent history); 0: none. */
  historyRecords: number;
  /** Base URL of the Temporal Web UI, for the links on each trail row. */
  temporalUiUrl: string;
  /** Base URL of the trace viewer (Jaeger UI), for each row's trace link; empty: no trace links. */
  traceUrl: string;
  /** Workflow type a direct start (the "straight to Temporal" path) starts. */
  workflowType: string;
  /** The worker's and the ingress's baseline workloads, whose routing rules the console lists. */
  workerBaselineName: string;
  ingressBaselineName: string;
}

/** The producer's configuration plus what the console needs: the same loader, the same variables. */
export interface ConsoleConfig extends ProducerConfig {
  console: ConsoleSettings;
  results: { topic: string };
  temporal: TemporalConfig;
  routeserver: Pick<RouteserverConfig, 'url' | 'requestTimeoutMs' | 'refreshIntervalMs'>;
  signadot: Pick<SignadotIdentityConfig, 'baselineKind' | 'baselineNamespace'>;
}

const routeserver = routeserverSchema();
const signadot = signadotIdentitySchema({ baselineName: 'console' });

export const consoleSchema: Schema<ConsoleConfig> = {
  ...producerSchema,
  console: {
    host: {
      doc: 'Address the console binds (loopback by default; 0.0.0.0 in a container).',
      format: String,
      default: '127.0.0.1',
      env: 'CONSOLE_HOST',
    },
    port: {
      doc: 'Port of the console.',
      format: 'port',
      default: 8090,
      env: 'CONSOLE_PORT',
    },
    token: {
      doc: 'Token the console asks for (login page, or Authorization: Bearer); required on a non-loopback bind.',
      format: String,
      default: '',
      env: 'CONSOLE_TOKEN',
      sensitive: true,
    },
    tokenFile: {
      doc: 'File holding the console token (a mounted Secret); wins over CONSOLE_TOKEN.',
      format: String,
      default: '',
      env: 'CONSOLE_TOKEN_FILE',
    },
    allowedHosts: {
      doc: 'Host names (and Origins) the console serves besides loopback and its bind address, comma-separated; *.suffix wildcards.',
      format: String,
      default: '',
      env: 'CONSOLE_ALLOWED_HOSTS',
    },
    historyRecords: {
      doc: 'Records of each results-topic partition the console reads back when it starts, so recent events show on load (0: none).',
      format: 'nat',
      default: 500,
      env: 'CONSOLE_HISTORY_RECORDS',
    },
    temporalUiUrl: {
      doc: 'Base URL of the Temporal Web UI, linked from every trail row.',
      format: 'http-url',
      default: 'http://127.0.0.1:8233',
      env: 'TEMPORAL_UI_URL',
    },
    traceUrl: {
      doc: "Base URL of the trace viewer (Jaeger UI): a row whose ingress decision was traced links to '<url>/trace/<trace id>'. Empty: no trace links.",
      format: 'optional-http-url',
      default: '',
      env: 'CONSOLE_TRACE_URL',
    },
    workflowType: {
      doc: "Workflow type the console starts when sending 'straight to Temporal'.",
      format: 'kafka-name',
      default: 'processOrder',
      env: 'CONSOLE_WORKFLOW_TYPE',
    },
    workerBaselineName: {
      doc: "Name of the worker's baseline Deployment (same namespace and kind as SIGNADOT_BASELINE_*).",
      format: 'dns-subdomain',
      default: 'worker',
      env: 'WORKER_BASELINE_NAME',
    },
    ingressBaselineName: {
      doc: "Name of the ingress's baseline Deployment (same namespace and kind).",
      format: 'dns-subdomain',
      default: 'ingress',
      env: 'INGRESS_BASELINE_NAME',
    },
  },
  results: { topic: resultsTopicSchema() },
  temporal: temporalSchema(),
  routeserver: {
    url: routeserver.url,
    requestTimeoutMs: routeserver.requestTimeoutMs,
    refreshIntervalMs: routeserver.refreshIntervalMs,
  },
  signadot: { baselineKind: signadot.baselineKind, baselineNamespace: signadot.baselineNamespace },
};

/**
 * Loads and validates the console's configuration (defaults, then `CONFIG_FILE`, then env).
 * @throws ConfigError naming each invalid setting and its environment variable
 */
export function loadConsoleConfig(options?: LoadConfigOptions): ConsoleConfig {
  return loadConfig(consoleSchema, options);
}
