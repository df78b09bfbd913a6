import type { NeverSyncedPolicy } from '@sandbox-routing/core';
import type { Schema } from 'convict';
import {
  type KafkaSecurityConfig,
  kafkaSecuritySchema,
  type TemporalSecurityConfig,
  temporalSecuritySchema,
} from './secured';

/**
 * Schema fragments shared by the services. Each service composes the ones it needs into one typed
 * schema and loads it with `loadConfig` (see `ingress/src/config.ts`). Every setting has a doc, a default that works against the local stack,
 * and exactly one environment variable.
 */

export interface KafkaConfig {
  /** Bootstrap brokers. */
  brokers: string[];
  clientId: string;
  /** Topic the producer writes and the ingress reads. */
  topic: string;
  /** Where the ingress puts events it cannot process, with the reason in headers. */
  deadLetterTopic: string;
  /** TLS and SASL (see `kafkaSecurityOptions`). */
  security: KafkaSecurityConfig;
}

export function kafkaSchema(defaults: { clientId: string }): Schema<KafkaConfig> {
  return {
    brokers: {
      doc: 'Kafka bootstrap brokers, comma-separated host:port.',
      format: 'host-port-list',
      default: ['127.0.0.1:9092'],
      env: 'KAFKA_BROKERS',
    },
    clientId: {
      doc: 'Kafka client id.',
      format: 'kafka-name',
      default: defaults.clientId,
      env: 'KAFKA_CLIENT_ID',
    },
    topic: {
      doc: 'Topic carrying the events.',
      format: 'kafka-name',
      default: 'events',
      env: 'KAFKA_TOPIC',
    },
    deadLetterTopic: {
      doc: 'Dead-letter topic for events that cannot be processed.',
      format: 'kafka-name',
      default: 'events.dead-letter',
      env: 'KAFKA_DEAD_LETTER_TOPIC',
    },
    security: kafkaSecuritySchema(),
  };
}

/** TLS, mTLS and API key settings come from {@link TemporalSecurityConfig} (see `temporalSecurityOptions`). */
export interface TemporalConfig extends TemporalSecurityConfig {
  /** Frontend address, host:port. */
  address: string;
  namespace: string;
  /** The shared (baseline) task queue. Sandboxed workers derive their own queue from it. */
  taskQueue: string;
  /** Deadline of each call a service makes on its own: a workflow start, a health check. */
  callTimeoutMs: number;
}

export function temporalSchema(): Schema<TemporalConfig> {
  return {
    address: {
      doc: 'Temporal frontend address, host:port.',
      format: 'host-port',
      default: '127.0.0.1:7233',
      env: 'TEMPORAL_ADDRESS',
    },
    namespace: {
      doc: 'Temporal namespace.',
      format: 'dns-subdomain',
      default: 'default',
      env: 'TEMPORAL_NAMESPACE',
    },
    taskQueue: {
      doc: 'Shared task queue the baseline worker polls; sandbox queues are derived from it.',
      format: 'kafka-name',
      default: 'orders',
      env: 'TEMPORAL_TASK_QUEUE',
    },
    ...temporalSecuritySchema(),
    callTimeoutMs: {
      doc: 'Deadline of each Temporal call a service makes on its own (a workflow start, a health check).',
      format: 'positive-ms',
      default: 5000,
      env: 'TEMPORAL_CALL_TIMEOUT_MS',
    },
  };
}

export interface RouteserverConfig {
  /** Base URL of Signadot's routeserver HTTP API (or the local stand-in). */
  url: string;
  /** gRPC address (`host:port`) whose rule changes the route table watches; empty: poll HTTP only. */
  grpcAddress: string;
  /** How often the route table re-fetches its rules while polling. */
  refreshIntervalMs: number;
  /** Timeout of one routeserver request. */
  requestTimeoutMs: number;
  /** How long a decision may wait for the first successful sync. */
  firstSyncTimeoutMs: number;
  /** While polling, minimum gap between on-demand re-fetches triggered by an unknown routing key. */
  unknownKeyRefetchIntervalMs: number;
  /** What to decide if the route table has never synced once the wait is over. */
  neverSyncedPolicy: NeverSyncedPolicy | 'default';
}

export function routeserverSchema(): Schema<RouteserverConfig> {
  return {
    url: {
      doc: 'Signadot routeserver HTTP API base URL (in cluster: http://routeserver.signadot.svc:7778).',
      format: 'http-url',
      default: 'http://127.0.0.1:7778',
      env: 'SIGNADOT_ROUTESERVER_URL',
    },
    grpcAddress: {
      doc:
        'Signadot routeserver gRPC address, host:port (in cluster: routeserver.signadot.svc:7777). The route ' +
        'table watches it for pushed rule changes and polls the HTTP API only when the watch is unavailable. ' +
        'Empty: poll only.',
      format: 'optional-host-port',
      default: '127.0.0.1:7777',
      env: 'SIGNADOT_ROUTESERVER_GRPC_ADDRESS',
    },
    refreshIntervalMs: {
      doc: 'Interval between routing-rule refreshes while polling (no watch, or its fallback), in ms.',
      format: 'positive-ms',
      default: 2000,
      env: 'ROUTESERVER_REFRESH_INTERVAL_MS',
    },
    requestTimeoutMs: {
      doc: 'Timeout of one routeserver request, in ms.',
      format: 'positive-ms',
      default: 1000,
      env: 'ROUTESERVER_REQUEST_TIMEOUT_MS',
    },
    firstSyncTimeoutMs: {
      doc: 'How long a routing decision waits for the first successful sync, in ms.',
      format: 'positive-ms',
      default: 10000,
      env: 'ROUTESERVER_FIRST_SYNC_TIMEOUT_MS',
    },
    unknownKeyRefetchIntervalMs: {
      doc: 'While polling, minimum interval between re-fetches triggered by an unknown routing key, in ms.',
      format: 'positive-ms',
      default: 500,
      env: 'ROUTESERVER_UNKNOWN_KEY_REFETCH_INTERVAL_MS',
    },
    neverSyncedPolicy: {
      doc:
        "Decision when the route table never synced: 'wait' (keep waiting), 'own-nothing', " +
        "'assume-no-rules' (baseline owns all). 'default': baseline waits, sandbox owns nothing.",
      format: ['default', 'wait', 'own-nothing', 'assume-no-rules'],
      default: 'default',
      env: 'ROUTESERVER_NEVER_SYNCED_POLICY',
    },
  };
}

export interface SignadotIdentityConfig {
  /** Kind of this instance's baseline workload (forks inherit the baseline's values). */
  baselineKind: 'Deployment' | 'ArgoRollout';
  baselineNamespace: string;
  baselineName: string;
  /** Set by Signadot in a sandboxed fork; empty means this instance is the baseline. */
  sandboxName: string;
}

export function signadotIdentitySchema(defaults: { baselineName: string }): Schema<SignadotIdentityConfig> {
  return {
    baselineKind: {
      doc: "Kind of this instance's baseline workload.",
      format: ['Deployment', 'ArgoRollout'],
      default: 'Deployment',
      env: 'SIGNADOT_BASELINE_KIND',
    },
    baselineNamespace: {
      doc: "Namespace of this instance's baseline workload (in cluster: from the downward API).",
      format: 'dns-label',
      default: 'local',
      env: 'SIGNADOT_BASELINE_NAMESPACE',
    },
    baselineName: {
      doc: "Name of this instance's baseline workload.",
      format: 'dns-subdomain',
      default: defaults.baselineName,
      env: 'SIGNADOT_BASELINE_NAME',
    },
    sandboxName: {
      doc: 'Sandbox this instance belongs to; empty for the baseline (Signadot sets it in forks).',
      format: 'sandbox-name',
      default: '',
      env: 'SIGNADOT_SANDBOX_NAME',
    },
  };
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface TelemetryConfig {
  serviceName: string;
  logLevel: LogLevel;
  /** 'none' keeps tracing off (baggage still propagates); 'otlp' exports to `otlpEndpoint`. */
  tracesExporter: 'none' | 'otlp' | 'console';
  otlpEndpoint: string;
}

export function telemetrySchema(defaults: { serviceName: string }): Schema<TelemetryConfig> {
  return {
    serviceName: {
      doc: 'Service name in logs, traces and metrics.',
      format: 'kafka-name',
      default: defaults.serviceName,
      env: 'OTEL_SERVICE_NAME',
    },
    logLevel: {
      doc: 'Log level.',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'LOG_LEVEL',
    },
    tracesExporter: {
      doc: "Trace exporter: 'none', 'otlp' or 'console'.",
      format: ['none', 'otlp', 'console'],
      default: 'none',
      env: 'OTEL_TRACES_EXPORTER',
    },
    otlpEndpoint: {
      doc: 'OTLP/HTTP endpoint for traces (used when the exporter is otlp).',
      format: 'optional-http-url',
      default: '',
      env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    },
  };
}

export interface HttpConfig {
  host: string;
  /** Port of /healthz, /readyz and /metrics. */
  port: number;
}

export function httpSchema(defaults: { port: number }): Schema<HttpConfig> {
  return {
    host: {
      doc: 'Address the health and metrics server binds (0.0.0.0 in a container).',
      format: String,
      default: '127.0.0.1',
      env: 'HTTP_HOST',
    },
    port: {
      doc: 'Port of /healthz, /readyz and /metrics.',
      format: 'port',
      default: defaults.port,
      env: 'HTTP_PORT',
    },
  };
}
