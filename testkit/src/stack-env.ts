import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Addresses of the local stack, as `npm run stack -- up` writes them to .stack/env. */
export interface StackEnv {
  KAFKA_BROKERS: string;
  TEMPORAL_ADDRESS: string;
  TEMPORAL_UI_URL: string;
  SIGNADOT_ROUTESERVER_URL: string;
  SIGNADOT_ROUTESERVER_GRPC_ADDRESS: string;
  /** Set when the stack runs its trace viewer (`STACK_TRACING`, on by default). */
  JAEGER_URL?: string;
  OTEL_TRACES_EXPORTER?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  /** The secured paths (a stack started before they existed has none; `securedStack()` insists). */
  STACK_KAFKA_SASL_SSL_BROKERS?: string;
  STACK_KAFKA_SASL_USERNAME?: string;
  STACK_KAFKA_SASL_PASSWORD?: string;
  STACK_TLS_CA_FILE?: string;
  STACK_TEMPORAL_TLS_ADDRESS?: string;
  STACK_TEMPORAL_TLS_CERT_FILE?: string;
  STACK_TEMPORAL_TLS_KEY_FILE?: string;
  STACK_TLS_WRONG_CA_FILE?: string;
  STACK_TLS_WRONG_CERT_FILE?: string;
  STACK_TLS_WRONG_KEY_FILE?: string;
}

/** The stack's secured paths, for tests of SASL, TLS and mTLS. */
export interface SecuredStackEnv {
  /** Kafka's SASL_SSL listener: SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN, one user and password. */
  STACK_KAFKA_SASL_SSL_BROKERS: string;
  STACK_KAFKA_SASL_USERNAME: string;
  STACK_KAFKA_SASL_PASSWORD: string;
  /** The CA that signed the servers' certificates and the good client certificate. */
  STACK_TLS_CA_FILE: string;
  /** The TLS terminator in front of the Temporal dev server; it requires a client certificate. */
  STACK_TEMPORAL_TLS_ADDRESS: string;
  STACK_TEMPORAL_TLS_CERT_FILE: string;
  STACK_TEMPORAL_TLS_KEY_FILE: string;
  /** Another CA, and a client certificate it signed: both must be refused. */
  STACK_TLS_WRONG_CA_FILE: string;
  STACK_TLS_WRONG_CERT_FILE: string;
  STACK_TLS_WRONG_KEY_FILE: string;
}

const SECURED_KEYS: readonly (keyof SecuredStackEnv)[] = [
  'STACK_KAFKA_SASL_SSL_BROKERS',
  'STACK_KAFKA_SASL_USERNAME',
  'STACK_KAFKA_SASL_PASSWORD',
  'STACK_TLS_CA_FILE',
  'STACK_TEMPORAL_TLS_ADDRESS',
  'STACK_TEMPORAL_TLS_CERT_FILE',
  'STACK_TEMPORAL_TLS_KEY_FILE',
  'STACK_TLS_WRONG_CA_FILE',
  'STACK_TLS_WRONG_CERT_FILE',
  'STACK_TLS_WRONG_KEY_FILE',
];

/** Present only when the stack runs Jaeger, or (the secured paths) when it has them. */
const OPTIONAL_KEYS = [
  'JAEGER_URL',
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  ...SECURED_KEYS,
] as const;

const KEYS: readonly (keyof StackEnv)[] = [
  'KAFKA_BROKERS',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_UI_URL',
  'SIGNADOT_ROUTESERVER_URL',
  'SIGNADOT_ROUTESERVER_GRPC_ADDRESS',
];

function findEnvFile(from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, '.stack', 'env');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The stack's addresses for integration tests: from the environment (set by `stack exec`), else from
 * .stack/env. Throws when the stack is not up, so such tests fail instead of passing without servers.
 */
export function stackEnv(): StackEnv {
  const fromFile: Record<string, string> = {};
  const file = findEnvFile(process.cwd());
  if (file) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) fromFile[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  const values: Partial<StackEnv> = {};
  for (const key of KEYS) {
    const value = process.env[key] ?? fromFile[key];
    if (!value)
      throw new Error(`${key} is not set: start the local stack (npm run stack -- up) or run via npm test`);
    values[key] = value;
  }
  for (const key of OPTIONAL_KEYS) {
    const value = process.env[key] ?? fromFile[key];
    if (value) values[key] = value;
  }
  return values as StackEnv;
}

/**
 * The stack's Jaeger (query API and UI) for tests that read traces. Throws when the stack runs
 * without it, so such tests fail instead of passing without a viewer.
 */
export function jaegerUrl(env: StackEnv = stackEnv()): string {
  if (!env.JAEGER_URL) {
    throw new Error('JAEGER_URL is not set: the stack runs without its trace viewer (STACK_TRACING=off)');
  }
  return env.JAEGER_URL;
}

/**
 * The stack's secured paths for tests of SASL, TLS and mTLS. Throws when the stack has none (started
 * by an older version: `npm run stack -- down`, then `up`), so such tests fail instead of passing.
 */
export function securedStack(env: StackEnv = stackEnv()): SecuredStackEnv {
  const values: Partial<SecuredStackEnv> = {};
  for (const key of SECURED_KEYS) {
    const value = env[key];
    if (!value)
      throw new Error(
        `${key} is not set: restart the local stack (npm run stack -- down, then up) to get its secured paths`,
      );
    values[key] = value;
  }
  return values as SecuredStackEnv;
}
