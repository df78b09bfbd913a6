import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { stringify as toYaml } from 'yaml';
import { paths, REPO_ROOT } from './paths';
import type { SpawnSpec } from './processes';
import type { StackSettings } from './settings';
import { ensureJaeger, ensureKafkaJars, ensureTemporalCli, kafkaClasspath } from './tools';

/** Kafka's default limit of a record batch (the broker's `message.max.bytes`), set explicitly on `events`. */
export const EVENTS_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * The dead-letter topic takes twice as much: a dead-letter copy is the original record plus reason
 * headers, so a record that fits the events topic always fits here whole.
 */
export const DEAD_LETTER_MAX_MESSAGE_BYTES = 2 * EVENTS_MAX_MESSAGE_BYTES;

/** A topic of the local stack. */
export interface StackTopic {
  topic: string;
  numPartitions: number;
  configEntries?: { name: string; value: string }[];
}

/** Topic settings of `events` and `events.dead-letter`, also used for the tests' isolated topics. */
export const EVENTS_TOPIC_CONFIG = [{ name: 'max.message.bytes', value: String(EVENTS_MAX_MESSAGE_BYTES) }];
export const DEAD_LETTER_TOPIC_CONFIG = [
  { name: 'max.message.bytes', value: String(DEAD_LETTER_MAX_MESSAGE_BYTES) },
];

/**
 * Topics of the pipeline, created explicitly (auto-creation is off on the local broker). Sandbox
 * topics (`events.sandbox.<name>`) are not here: the baseline ingress creates them on demand.
 */
export const STACK_TOPICS: readonly StackTopic[] = [
  { topic: 'events', numPartitions: 3, configEntries: EVENTS_TOPIC_CONFIG },
  { topic: 'events.dead-letter', numPartitions: 1, configEntries: DEAD_LETTER_TOPIC_CONFIG },
  { topic: 'events.results', numPartitions: 1 },
];

/** Search attributes the design uses: list a sandbox's workflows by key or sandbox name. */
export const SEARCH_ATTRIBUTES = { SignadotRoutingKey: 'Keyword', SignadotSandbox: 'Keyword' } as const;

/** One server of the local stack. */
export interface StackService {
  name: 'kafka' | 'temporal' | 'routeserver' | 'jaeger';
  /** Fetch or build what is missing, prepare data directories. Idempotent. */
  prepare(): void;
  spawnSpec(): SpawnSpec;
  /** One readiness probe; true when the server answers as it should. */
  isReady(): Promise<boolean>;
  /** Work after readiness, e.g. creating topics. Idempotent. */
  afterReady?(): Promise<void>;
  /** `KEY=VALUE` lines it contributes to .stack/env. */
  addresses(): Record<string, string>;
}

/** A KRaft cluster id: 16 random bytes in base64url, not starting with '-' (Kafka rejects those). */
function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function kafkaService(settings: StackSettings): StackService {
  const dataDir = path.join(paths.data, 'kafka');
  const propertiesFile = path.join(paths.data, 'kafka-server.properties');
  const broker = `127.0.0.1:${settings.kafkaPort}`;
  const controller = `127.0.0.1:${settings.kafkaControllerPort}`;
  const kafka = new Kafka({
    clientId: 'stack',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const java = (mainClass: string, args: string[]) => [
    `-Dlog4j2.configurationFile=${paths.kafkaLog4j}`,
    '-cp',
    kafkaClasspath(),
    mainClass,
    ...args,
  ];
  return {
    name: 'kafka',
    prepare() {
      ensureKafkaJars();
      mkdirSync(dataDir, { recursive: true });
      // Single combined broker+controller in KRaft mode, loopback only, sized for a 2-core machine.
      const properties = {
        'process.roles': 'broker,controller',
        'node.id': '1',
        'controller.quorum.bootstrap.servers': controller,
        'controller.listener.names': 'CONTROLLER',
        listeners: `PLAINTEXT://${broker},CONTROLLER://${controller}`,
        'advertised.listeners': `PLAINTEXT://${broker},CONTROLLER://${controller}`,
        'inter.broker.listener.name': 'PLAINTEXT',
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        'log.dirs': dataDir,
        'num.partitions': '1',
        'auto.create.topics.enable': 'false',
        'offsets.topic.replication.factor': '1',
        'offsets.topic.num.partitions': '3',
        'transaction.state.log.replication.factor': '1',
        'transaction.state.log.min.isr': '1',
        'share.coordinator.state.topic.replication.factor': '1',
        'share.coordinator.state.topic.min.isr': '1',
        // Without this the first consumer join waits 3 s.
        'group.initial.rebalance.delay.ms': '0',
        'num.network.threads': '2',
        'num.io.threads': '2',
        'log.segment.bytes': String(16 * 1024 * 1024),
      };
      writeFileSync(
        propertiesFile,
        `${Object.entries(properties)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')}\n`,
      );
      if (!existsSync(path.join(dataDir, 'meta.properties'))) {
        console.log('[stack] formatting Kafka storage (KRaft, standalone controller)');
        const result = spawnSync(
          'java',
          java('kafka.tools.StorageTool', [
            'format',
            '--standalone',
            '-t',
            kafkaClusterId(),
            '-c',
            propertiesFile,
          ]),
          { encoding: 'utf8' },
        );
        if (result.status !== 0)
          throw new Error(`Kafka StorageTool format failed:\n${result.stdout}${result.stderr}`);
      }
    },
    spawnSpec() {
      return {
        command: 'java',
        args: [
          `-Xms128m`,
          `-Xmx${settings.kafkaHeap}`,
          '-XX:+UseSerialGC',
          '-XX:TieredStopAtLevel=1',
          '-Djava.awt.headless=true',
          `-Dkafka.logs.dir=${paths.logs}`,
          ...java('kafka.Kafka', [propertiesFile]),
        ],
        cwd: REPO_ROOT,
        logFile: path.join(paths.logs, 'kafka.log'),
        marker: propertiesFile,
      };
    },
    async isReady() {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length > 0;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    async afterReady() {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const missing = STACK_TOPICS.filter((t) => !existing.has(t.topic));
        if (missing.length > 0) {
          await admin.createTopics({
            topics: missing.map((t) => ({ ...t, replicationFactor: 1 })),
            waitForLeaders: true,
          });
          console.log(`[stack] created topics: ${missing.map((t) => t.topic).join(', ')}`);
        }
        // Topics of a stack created before a setting was added get it too (idempotent).
        const configured = STACK_TOPICS.filter((t) => existing.has(t.topic) && t.configEntries);
        if (configured.length > 0) {
          await admin.alterConfigs({
            validateOnly: false,
            resources: configured.map((t) => ({
              type: ConfigResourceTypes.TOPIC,
              name: t.topic,
              configEntries: t.configEntries ?? [],
            })),
          });
        }
      } finally {
        await admin.disconnect();
      }
    },
    addresses: () => ({ KAFKA_BROKERS: broker }),
  };
}

export function temporalService(settings: StackSettings): StackService {
  const address = `127.0.0.1:${settings.temporalPort}`;
  const dbFile = path.join(paths.data, 'temporal.db');
  let cli = '';
  return {
    name: 'temporal',
    prepare() {
      cli = ensureTemporalCli();
      mkdirSync(paths.data, { recursive: true });
    },
    spawnSpec() {
      const searchAttributes = Object.entries(SEARCH_ATTRIBUTES).flatMap(([k, v]) => [
        '--search-attribute',
        `${k}=${v}`,
      ]);
      return {
        command: cli,
        args: [
          'server',
          'start-dev',
          '--ip',
          '127.0.0.1',
          '--port',
          String(settings.temporalPort),
          '--ui-ip',
          '127.0.0.1',
          '--ui-port',
          String(settings.temporalUiPort),
          '--http-port',
          String(settings.temporalHttpPort),
          '--metrics-port',
          String(settings.temporalMetricsPort),
          '--db-filename',
          dbFile,
          '--namespace',
          'default',
          ...searchAttributes,
          '--log-level',
          'warn',
          // Lets a workflow's first activity go straight back to the worker that scheduled it.
          '--dynamic-config-value',
          'system.enableActivityEagerExecution=true',
          '--dynamic-config-value',
          'frontend.enableUpdateWorkflowExecution=true',
          '--dynamic-config-value',
          'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
        ],
        cwd: REPO_ROOT,
        logFile: path.join(paths.logs, 'temporal.log'),
        marker: dbFile,
      };
    },
    async isReady() {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({
          namespace: 'default',
        });
        return Object.keys(SEARCH_ATTRIBUTES).every((name) => customAttributes?.[name] !== undefined);
      } finally {
        await connection.close();
      }
    },
    addresses: () => ({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_UI_URL: `http://127.0.0.1:${settings.temporalUiPort}`,
    }),
  };
}

export function routeserverService(settings: StackSettings): StackService {
  const url = `http://127.0.0.1:${settings.routeserverPort}`;
  const grpcAddress = `127.0.0.1:${settings.routeserverGrpcPort}`;
  return {
    name: 'routeserver',
    prepare() {
      if (!existsSync(paths.routeserverMain)) {
        throw new Error(`${paths.routeserverMain} is missing: run \`npx tsc -b dev\` first`);
      }
    },
    spawnSpec() {
      const stateFile = settings.routeserverStateFile;
      return {
        command: process.execPath,
        args: [
          paths.routeserverMain,
          '--host',
          '127.0.0.1',
          '--port',
          String(settings.routeserverPort),
          '--grpc-port',
          String(settings.routeserverGrpcPort),
          ...(stateFile ? ['--state-file', stateFile] : []),
        ],
        cwd: REPO_ROOT,
        logFile: path.join(paths.logs, 'routeserver.log'),
        marker: paths.routeserverMain,
      };
    },
    // The stand-in binds gRPC before HTTP, so an answer on HTTP means both are up.
    async isReady() {
      const response = await fetch(`${url}/admin/state`, { signal: AbortSignal.timeout(1000) });
      return response.ok;
    },
    addresses: () => ({ SIGNADOT_ROUTESERVER_URL: url, SIGNADOT_ROUTESERVER_GRPC_ADDRESS: grpcAddress }),
  };
}

/** Traces Jaeger keeps in memory; the oldest go first. */
const JAEGER_MAX_TRACES = 20_000;

/**
 * Jaeger's configuration (Jaeger 2 is an OpenTelemetry Collector): OTLP receivers, in-memory
 * storage, the query API and UI. Everything binds 127.0.0.1, and what Jaeger's default
 * configuration adds beyond that is left out: the Jaeger/Zipkin receivers, remote sampling, health
 * check, expvar and zpages extensions, the collector's own metrics endpoint (`level: none`) and
 * jaeger_query's own traces (`enable_tracing`, which would go to localhost:4317). The query API's
 * gRPC endpoint, which nothing here uses, takes a free loopback port.
 */
export function jaegerConfig(settings: StackSettings, uiAssets: string): string {
  return toYaml({
    service: {
      extensions: ['jaeger_storage', 'jaeger_query'],
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] },
      },
      telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
    },
    extensions: {
      jaeger_storage: { backends: { memstore: { memory: { max_traces: JAEGER_MAX_TRACES } } } },
      jaeger_query: {
        storage: { traces: 'memstore' },
        enable_tracing: false,
        ui: { assets_path: uiAssets },
        http: { endpoint: `127.0.0.1:${settings.jaegerUiPort}` },
        grpc: { endpoint: '127.0.0.1:0' },
      },
    },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `127.0.0.1:${settings.jaegerOtlpGrpcPort}` },
          http: { endpoint: `127.0.0.1:${settings.jaegerOtlpHttpPort}` },
        },
      },
    },
    // Short batches: a trace shows up within a fraction of a second of its last span.
    processors: { batch: { timeout: '100ms' } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
  });
}

/**
 * Lays out the project's trace view as Jaeger serves UI assets: `index.html` for every page
 * (`/trace/<id>` included) and `static/` for the rest. Jaeger built from its Go module carries no UI
 * (its assets are built from the jaeger-ui repository at release time); this small page shows one
 * trace from the query API, at the URLs Jaeger's UI uses.
 */
function layOutTraceView(dir: string): string {
  if (!existsSync(paths.traceViewScript)) {
    throw new Error(`${paths.traceViewScript} is missing: run \`npx tsc -b dev\` first`);
  }
  mkdirSync(path.join(dir, 'static'), { recursive: true });
  copyFileSync(paths.traceViewHtml, path.join(dir, 'index.html'));
  copyFileSync(paths.traceViewScript, path.join(dir, 'static', 'view.js'));
  return dir;
}

/** Jaeger, the trace viewer: services export spans to it over OTLP; its UI shows one trace per event. */
export function jaegerService(settings: StackSettings): StackService {
  const configFile = path.join(paths.data, 'jaeger.yaml');
  const url = `http://127.0.0.1:${settings.jaegerUiPort}`;
  let binary = '';
  return {
    name: 'jaeger',
    prepare() {
      binary = ensureJaeger();
      mkdirSync(paths.data, { recursive: true });
      const assets = settings.jaegerUiAssets || layOutTraceView(path.join(paths.data, 'jaeger-ui'));
      writeFileSync(configFile, jaegerConfig(settings, assets));
    },
    spawnSpec() {
      return {
        command: binary,
        args: ['--config', configFile],
        cwd: REPO_ROOT,
        logFile: path.join(paths.logs, 'jaeger.log'),
        marker: configFile,
      };
    },
    async isReady() {
      const response = await fetch(`${url}/api/services`, { signal: AbortSignal.timeout(1000) });
      return response.ok;
    },
    addresses: () => ({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${settings.jaegerOtlpHttpPort}`,
      JAEGER_URL: url,
    }),
  };
}
