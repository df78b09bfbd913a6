import path from 'node:path';

/** Repository root, resolved from this file's compiled location (dev/dist/stack). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** Runtime state of the local stack: addresses, pids, logs, data. Git-ignored. */
export const STACK_DIR = process.env.STACK_DIR ?? path.join(REPO_ROOT, '.stack');
/** Fetched tools: Kafka jars, the Temporal CLI. Git-ignored, kept between runs. */
export const TOOLS_DIR = process.env.STACK_TOOLS_DIR ?? path.join(REPO_ROOT, '.tools');

export const paths = {
  envFile: path.join(STACK_DIR, 'env'),
  stateFile: path.join(STACK_DIR, 'state.json'),
  logs: path.join(STACK_DIR, 'logs'),
  data: path.join(STACK_DIR, 'data'),
  /** The local CA and certificates of the secured paths (generated with openssl by `up`). */
  tls: path.join(STACK_DIR, 'tls'),
  kafkaPom: path.join(REPO_ROOT, 'dev', 'kafka', 'pom.xml'),
  kafkaLog4j: path.join(REPO_ROOT, 'dev', 'kafka', 'log4j2.properties'),
  kafkaLibs: path.join(TOOLS_DIR, 'kafka', 'libs'),
  /** Temporal's Java test server (time skipping), for `@temporalio/testing` tests. */
  temporalTestServerPom: path.join(REPO_ROOT, 'dev', 'temporal-test-server', 'pom.xml'),
  temporalTestServerLibs: path.join(TOOLS_DIR, 'temporal-test-server', 'libs'),
  toolsBin: path.join(TOOLS_DIR, 'bin'),
  routeserverMain: path.join(REPO_ROOT, 'dev', 'dist', 'routeserver', 'main.js'),
  /** The TLS terminator in front of the Temporal dev server. */
  tlsTerminatorMain: path.join(REPO_ROOT, 'dev', 'dist', 'stack', 'tls-terminator.js'),
  routeserverState: path.join(REPO_ROOT, 'dev', 'routeserver-state.example.yaml'),
  /** The Go tool module Jaeger is built from. */
  jaegerModule: path.join(REPO_ROOT, 'dev', 'jaeger'),
  /** The trace view Jaeger serves as its UI (page shell here, script compiled by tsc into dev/dist). */
  traceViewHtml: path.join(REPO_ROOT, 'dev', 'jaeger', 'ui', 'index.html'),
  traceViewScript: path.join(REPO_ROOT, 'dev', 'dist', 'stack', 'trace-view', 'view.js'),
} as const;
