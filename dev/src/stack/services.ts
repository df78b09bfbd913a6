import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { pollUntil } from '@sandbox-routing/testkit';
import { Connection } from '@temporalio/client';
import {
  ConfigResourceTypes,
  Kafka,
  KafkaJSSASLAuthenticationError,
  logLevel,
  type SASLOptions,
} from 'kafkajs';
import { stringify as toYaml } from 'yaml';
import { paths, REPO_ROOT } from './paths';
import type { SpawnSpec } from './processes';
import type { StackSettings } from './settings';
import { tlsMaterial } from './tls';
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
 * topics (`events.ingress.sandbox.<name>`) are not here: the baseline ingress creates them on demand.
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
  name: 'kafka' | 'temporal' | 'temporal-tls' | 'routeserver' | 'jaeger';
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

/** The SASL user of the stack's SASL_SSL listener: SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN, one password. */
export const KAFKA_SASL_USERNAME = 'sandbox-routing';
const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
const SASL_PROBES = ['scram-sha-256', 'scram-sha-512', 'plain'] as const;

/** Where the generated SASL password lives: with Kafka's data, as the SCRAM credentials stored there. */
const saslPasswordFile = () => path.join(paths.data, 'kafka-sasl-password');

function readSaslPassword(): string | undefined {
  return existsSync(saslPasswordFile()) ? readFileSync(saslPasswordFile(), 'utf8').trim() : undefined;
}

function ensureSaslPassword(): string {
  const existing = readSaslPassword();
  if (existing) return existing;
  mkdirSync(paths.data, { recursive: true });
  // base64url: no character that Kafka's `[name=…,password=…]` syntax or JAAS quoting would read.
  const password = randomBytes(24).toString('base64url');
  writeFileSync(saslPasswordFile(), `${password}\n`, { mode: 0o600 });
  return password;
}

/** A tool's output with the password blotted out, for error messages. */
function redacted(text: string, secret: string): string {
  return text.replaceAll(secret, '<password>');
}

export function kafkaService(settings: StackSettings): StackService {
  const dataDir = path.join(paths.data, 'kafka');
  const propertiesFile = path.join(paths.data, 'kafka-server.properties');
  const broker = `127.0.0.1:${settings.kafkaPort}`;
  const saslSslBroker = `127.0.0.1:${settings.kafkaSaslSslPort}`;
  const controller = `127.0.0.1:${settings.kafkaControllerPort}`;
  const tlsFiles = tlsMaterial();
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

  /** Connects to the SASL_SSL listener with one mechanism: undefined when it authenticates, else why not. */
  async function saslProbe(
    mechanism: (typeof SASL_PROBES)[number],
    password: string,
  ): Promise<Error | undefined> {
    const admin = new Kafka({
      clientId: 'stack-sasl-probe',
      brokers: [saslSslBroker],
      ssl: { ca: readFileSync(tlsFiles.caFile, 'utf8') },
      sasl: { mechanism, username: KAFKA_SASL_USERNAME, password } as SASLOptions,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      authenticationTimeout: 3000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return undefined;
    } catch (error) {
      return error as Error;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /**
   * Checks each mechanism of the SASL_SSL listener with the stack's password. SCRAM users missing
   * (storage formatted before the listener existed) or holding another password are set with
   * kafka-configs, saying so; nothing else of the stored data changes.
   */
  async function ensureSaslUsers(): Promise<void> {
    const password = ensureSaslPassword();
    const [scram256, scram512, plain] = await Promise.all(SASL_PROBES.map((m) => saslProbe(m, password)));
    const other = [scram256, scram512, plain].find(
      (error) => error !== undefined && !(error instanceof KafkaJSSASLAuthenticationError),
    );
    if (other) {
      throw new Error(
        `Kafka's SASL_SSL listener ${saslSslBroker} does not answer as expected (${other.message}); a broker started by an older version of the stack has none: \`npm run stack -- stop kafka\`, then \`up\``,
      );
    }
    if (plain) {
      throw new Error(
        `Kafka's PLAIN user ${KAFKA_SASL_USERNAME} has another password than ${saslPasswordFile()} (${plain.message}): \`npm run stack -- stop kafka\`, then \`up\``,
      );
    }
    const missing = SCRAM_MECHANISMS.filter((_, i) => [scram256, scram512][i] !== undefined);
    if (missing.length === 0) return;
    console.log(
      `[stack] Kafka has no ${missing.join(' or ')} credentials for ${KAFKA_SASL_USERNAME} with the stack's password (storage formatted before the SASL_SSL listener existed, or a new password): setting them with kafka-configs`,
    );
    // One mechanism per command: Kafka refuses to alter a user's credentials twice in one request.
    for (const mechanism of missing) {
      const result = spawnSync(
        'java',
        java('kafka.admin.ConfigCommand', [
          '--bootstrap-server',
          broker,
          '--alter',
          '--entity-type',
          'users',
          '--entity-name',
          KAFKA_SASL_USERNAME,
          '--add-config',
          `${mechanism}=[password=${password}]`,
        ]),
        { encoding: 'utf8' },
      );
      if (result.status !== 0)
        throw new Error(`kafka-configs failed:\n${redacted(`${result.stdout}${result.stderr}`, password)}`);
    }
    // The credentials reach the broker through the metadata log, a moment after the command returns.
    await pollUntil(
      async () =>
        (await saslProbe('scram-sha-256', password)) === undefined &&
        (await saslProbe('scram-sha-512', password)) === undefined,
      { description: 'SCRAM credentials to take effect', timeoutMs: 15_000, intervalMs: 250 },
    );
  }

  return {
    name: 'kafka',
    prepare() {
      ensureKafkaJars();
      mkdirSync(dataDir, { recursive: true });
      const password = ensureSaslPassword();
      const saslSsl = 'listener.name.sasl_ssl';
      // Single combined broker+controller in KRaft mode, loopback only, sized for a 2-core machine.
      // Besides the plaintext listener everything uses, a SASL_SSL one as managed Kafka services
      // offer it (Confluent Cloud: PLAIN; MSK, Aiven: SCRAM), with PEM key material from openssl.
      const properties = {
        'process.roles': 'broker,controller',
        'node.id': '1',
        'controller.quorum.bootstrap.servers': controller,
        'controller.listener.names': 'CONTROLLER',
        listeners: `PLAINTEXT://${broker},CONTROLLER://${controller},SASL_SSL://${saslSslBroker}`,
        'advertised.listeners': `PLAINTEXT://${broker},CONTROLLER://${controller},SASL_SSL://${saslSslBroker}`,
        'inter.broker.listener.name': 'PLAINTEXT',
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL',
        [`${saslSsl}.sasl.enabled.mechanisms`]: [...SCRAM_MECHANISMS, 'PLAIN'].join(','),
        [`${saslSsl}.scram-sha-256.sasl.jaas.config`]:
          'org.apache.kafka.common.security.scram.ScramLoginModule required;',
        [`${saslSsl}.scram-sha-512.sasl.jaas.config`]:
          'org.apache.kafka.common.security.scram.ScramLoginModule required;',
        [`${saslSsl}.plain.sasl.jaas.config`]: `org.apache.kafka.common.security.plain.PlainLoginModule required user_${KAFKA_SASL_USERNAME}="${password}";`,
        [`${saslSsl}.ssl.keystore.type`]: 'PEM',
        [`${saslSsl}.ssl.keystore.location`]: tlsFiles.serverKeystoreFile,
        [`${saslSsl}.ssl.truststore.type`]: 'PEM',
        [`${saslSsl}.ssl.truststore.location`]: tlsFiles.caFile,
        // A client certificate is optional (Aiven-style mTLS can be tested), but one from another CA fails.
        [`${saslSsl}.ssl.client.auth`]: 'requested',
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
      // It holds the PLAIN password: readable by the owner only.
      writeFileSync(
        propertiesFile,
        `${Object.entries(properties)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')}\n`,
        { mode: 0o600 },
      );
      chmodSync(propertiesFile, 0o600);
      if (!existsSync(path.join(dataDir, 'meta.properties'))) {
        console.log(
          `[stack] formatting Kafka storage (KRaft, standalone controller; SCRAM users for ${KAFKA_SASL_USERNAME})`,
        );
        // KIP-900: in KRaft the first SCRAM credentials are stored when the storage is formatted.
        const scram = SCRAM_MECHANISMS.flatMap((m) => [
          '--add-scram',
          `${m}=[name=${KAFKA_SASL_USERNAME},password=${password}]`,
        ]);
        const result = spawnSync(
          'java',
          java('kafka.tools.StorageTool', [
            'format',
            '--standalone',
            '-t',
            kafkaClusterId(),
            '-c',
            propertiesFile,
            ...scram,
          ]),
          { encoding: 'utf8' },
        );
        if (result.status !== 0)
          throw new Error(
            `Kafka StorageTool format failed:\n${redacted(`${result.stdout}${result.stderr}`, password)}`,
          );
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
      await ensureSaslUsers();
    },
    addresses: () => ({
      KAFKA_BROKERS: broker,
      STACK_KAFKA_SASL_SSL_BROKERS: saslSslBroker,
      STACK_KAFKA_SASL_USERNAME: KAFKA_SASL_USERNAME,
      STACK_KAFKA_SASL_PASSWORD: readSaslPassword() ?? '',
      STACK_TLS_CA_FILE: tlsFiles.caFile,
    }),
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

/**
 * The TLS terminator in front of the Temporal dev server (which has no TLS flags): it requires a
 * client certificate from the stack's CA, as Temporal Cloud's mTLS does, and pipes to the dev server.
 */
export function temporalTlsService(settings: StackSettings): StackService {
  const address = `127.0.0.1:${settings.temporalTlsPort}`;
  const files = tlsMaterial();
  return {
    name: 'temporal-tls',
    prepare() {
      if (!existsSync(paths.tlsTerminatorMain)) {
        throw new Error(`${paths.tlsTerminatorMain} is missing: run \`npx tsc -b dev\` first`);
      }
    },
    spawnSpec() {
      return {
        command: process.execPath,
        args: [
          paths.tlsTerminatorMain,
          '--listen',
          address,
          '--target',
          `127.0.0.1:${settings.temporalPort}`,
          '--ca',
          files.caFile,
          '--cert',
          files.serverCertFile,
          '--key',
          files.serverKeyFile,
        ],
        cwd: REPO_ROOT,
        logFile: path.join(paths.logs, 'temporal-tls.log'),
        marker: paths.tlsTerminatorMain,
      };
    },
    // A handshake with the stack's client certificate that agrees on h2 (the dev server behind it has
    // its own check). In TLS 1.3 the server has accepted the certificate once it sends a session
    // ticket; ending before that would make it log a refused client.
    isReady: () =>
      new Promise<boolean>((resolve, reject) => {
        const socket = tls.connect({
          host: '127.0.0.1',
          port: settings.temporalTlsPort,
          ca: readFileSync(files.caFile),
          cert: readFileSync(files.clientCertFile),
          key: readFileSync(files.clientKeyFile),
          ALPNProtocols: ['h2'],
          timeout: 1000,
        });
        socket.once('session', () => {
          resolve(socket.alpnProtocol === 'h2');
          socket.end();
        });
        socket.once('close', () => resolve(false));
        socket.once('timeout', () => socket.destroy(new Error('TLS handshake timed out')));
        socket.once('error', reject);
      }),
    addresses: () => ({
      STACK_TEMPORAL_TLS_ADDRESS: address,
      STACK_TLS_CA_FILE: files.caFile,
      STACK_TEMPORAL_TLS_CERT_FILE: files.clientCertFile,
      STACK_TEMPORAL_TLS_KEY_FILE: files.clientKeyFile,
      STACK_TLS_WRONG_CA_FILE: files.wrongCaFile,
      STACK_TLS_WRONG_CERT_FILE: files.wrongClientCertFile,
      STACK_TLS_WRONG_KEY_FILE: files.wrongClientKeyFile,
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
