/** Ports of the local stack: fixed defaults, each overridable by an environment variable. */
export interface StackSettings {
  kafkaPort: number;
  kafkaControllerPort: number;
  /** Kafka's SASL_SSL listener (SCRAM-SHA-256/512 and PLAIN over TLS), as managed Kafka services offer. */
  kafkaSaslSslPort: number;
  kafkaHeap: string;
  temporalPort: number;
  temporalUiPort: number;
  temporalHttpPort: number;
  temporalMetricsPort: number;
  /** The TLS terminator in front of the dev server, requiring a client certificate (mTLS). */
  temporalTlsPort: number;
  routeserverPort: number;
  /** gRPC port of the stand-in (`routes.Routes`), 7777 like Signadot's routeserver. */
  routeserverGrpcPort: number;
  /** Port of the web console the demo starts (`producer console`). */
  consolePort: number;
  /** Run the trace viewer (Jaeger) and have services export traces to it (`STACK_TRACING`, default on). */
  tracing: boolean;
  /** Jaeger's OTLP receivers (gRPC, HTTP) and its UI and query API. */
  jaegerOtlpGrpcPort: number;
  jaegerOtlpHttpPort: number;
  jaegerUiPort: number;
  /** A directory holding a Jaeger UI build to serve instead of the project's trace view; empty for none. */
  jaegerUiAssets: string;
  /** Initial sandboxes and route groups for the stand-in; empty for none. */
  routeserverStateFile: string;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name} must be a port number (1-65535), got "${raw}"`);
  }
  return value;
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === 'true' || raw === '1') return true;
  if (raw === 'off' || raw === 'false' || raw === '0') return false;
  throw new Error(`${name} must be on or off, got "${raw}"`);
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  const kafkaPort = port(env, 'STACK_KAFKA_PORT', 9092);
  const temporalPort = port(env, 'STACK_TEMPORAL_PORT', 7233);
  return {
    kafkaPort,
    kafkaControllerPort: port(env, 'STACK_KAFKA_CONTROLLER_PORT', 9093),
    // Two above the plain port by default (9094, 7235), so stacks that move their ports by a prefix
    // (26092, 26233) get free secured ports without setting these too.
    kafkaSaslSslPort: port(env, 'STACK_KAFKA_SASL_SSL_PORT', kafkaPort + 2),
    kafkaHeap: env.STACK_KAFKA_HEAP ?? '512m',
    temporalPort,
    temporalUiPort: port(env, 'STACK_TEMPORAL_UI_PORT', 8233),
    temporalHttpPort: port(env, 'STACK_TEMPORAL_HTTP_PORT', 7243),
    temporalMetricsPort: port(env, 'STACK_TEMPORAL_METRICS_PORT', 7244),
    temporalTlsPort: port(env, 'STACK_TEMPORAL_TLS_PORT', temporalPort + 2),
    routeserverPort: port(env, 'STACK_ROUTESERVER_PORT', 7778),
    routeserverGrpcPort: port(env, 'STACK_ROUTESERVER_GRPC_PORT', 7777),
    consolePort: port(env, 'STACK_CONSOLE_PORT', 8090),
    tracing: onOff(env, 'STACK_TRACING', true),
    jaegerOtlpGrpcPort: port(env, 'STACK_JAEGER_OTLP_GRPC_PORT', 4317),
    jaegerOtlpHttpPort: port(env, 'STACK_JAEGER_OTLP_HTTP_PORT', 4318),
    jaegerUiPort: port(env, 'STACK_JAEGER_UI_PORT', 16686),
    jaegerUiAssets: env.STACK_JAEGER_UI_ASSETS ?? '',
    routeserverStateFile: env.STACK_ROUTESERVER_STATE_FILE ?? '',
  };
}
