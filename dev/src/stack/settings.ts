/** Ports of the local stack: fixed defaults, each overridable by an environment variable. */
export interface StackSettings {
  kafkaPort: number;
  kafkaControllerPort: number;
  kafkaHeap: string;
  temporalPort: number;
  temporalUiPort: number;
  temporalHttpPort: number;
  temporalMetricsPort: number;
  routeserverPort: number;
  /** gRPC port of the stand-in (`routes.Routes`), 7777 like Signadot's routeserver. */
  routeserverGrpcPort: number;
  /** Port of the web console the demo starts (`producer console`). */
  consolePort: number;
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

export function readSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  return {
    kafkaPort: port(env, 'STACK_KAFKA_PORT', 9092),
    kafkaControllerPort: port(env, 'STACK_KAFKA_CONTROLLER_PORT', 9093),
    kafkaHeap: env.STACK_KAFKA_HEAP ?? '512m',
    temporalPort: port(env, 'STACK_TEMPORAL_PORT', 7233),
    temporalUiPort: port(env, 'STACK_TEMPORAL_UI_PORT', 8233),
    temporalHttpPort: port(env, 'STACK_TEMPORAL_HTTP_PORT', 7243),
    temporalMetricsPort: port(env, 'STACK_TEMPORAL_METRICS_PORT', 7244),
    routeserverPort: port(env, 'STACK_ROUTESERVER_PORT', 7778),
    routeserverGrpcPort: port(env, 'STACK_ROUTESERVER_GRPC_PORT', 7777),
    consolePort: port(env, 'STACK_CONSOLE_PORT', 8090),
    routeserverStateFile: env.STACK_ROUTESERVER_STATE_FILE ?? '',
  };
}
