import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Schema } from 'convict';
import {
  ConfigError,
  type KafkaConfig,
  kafkaSchema,
  loadConfig,
  type RoutedServiceConfig,
  redactConfig,
  routedServiceSchema,
} from '..';

/** Every schema part: a routed service's and Kafka's. */
interface AllParts extends RoutedServiceConfig {
  kafka: KafkaConfig;
}

const schema = (): Schema<AllParts> => ({
  kafka: kafkaSchema({ clientId: 'test' }),
  ...routedServiceSchema({ name: 'worker', port: 8082 }),
});

function rejects(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(schema(), { env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`configuration ${JSON.stringify(env)} was accepted`);
}

describe('configuration', () => {
  it('validates with no environment at all and points at the local stack', () => {
    const config = loadConfig(schema(), { env: {} });
    assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']);
    assert.equal(config.temporal.address, '127.0.0.1:7233');
    assert.equal(config.routeserver.url, 'http://127.0.0.1:7778');
    assert.equal(config.signadot.sandboxName, '', 'no sandbox name means baseline');
    assert.equal(config.signadot.baselineName, 'worker');
    assert.equal(config.http.port, 8082);
  });

  it('reads and coerces environment variables', () => {
    const config = loadConfig(schema(), {
      env: {
        KAFKA_BROKERS: 'kafka-0.kafka:9092, kafka-1.kafka:9092',
        ROUTESERVER_REFRESH_INTERVAL_MS: '5000',
        SIGNADOT_SANDBOX_NAME: 'pr-42-worker',
        SIGNADOT_BASELINE_NAMESPACE: 'orders',
        TEMPORAL_TLS: 'true',
        HTTP_PORT: '9000',
      },
    });
    assert.deepEqual(config.kafka.brokers, ['kafka-0.kafka:9092', 'kafka-1.kafka:9092']);
    assert.equal(config.routeserver.refreshIntervalMs, 5000);
    assert.equal(config.signadot.sandboxName, 'pr-42-worker');
    assert.equal(config.temporal.tls, true);
    assert.equal(config.http.port, 9000);
  });

  const badValues: [env: string, value: string, setting: string][] = [
    ['KAFKA_BROKERS', 'localhost', 'kafka.brokers'],
    ['KAFKA_BROKERS', '127.0.0.1:99999', 'kafka.brokers'],
    ['KAFKA_BROKERS', '', 'kafka.brokers'],
    ['KAFKA_TOPIC', 'events topic', 'kafka.topic'],
    ['KAFKA_DEAD_LETTER_TOPIC', 'a/b', 'kafka.deadLetterTopic'],
    ['TEMPORAL_ADDRESS', 'http://temporal:7233', 'temporal.address'],
    ['TEMPORAL_NAMESPACE', 'Bad_Namespace', 'temporal.namespace'],
    ['TEMPORAL_TLS', 'maybe', 'temporal.tls'],
    ['SIGNADOT_ROUTESERVER_URL', 'routeserver.signadot.svc:7778', 'routeserver.url'],
    ['SIGNADOT_ROUTESERVER_URL', 'ftp://routeserver', 'routeserver.url'],
    ['SIGNADOT_ROUTESERVER_GRPC_ADDRESS', 'http://routeserver:7777', 'routeserver.grpcAddress'],
    ['SIGNADOT_ROUTESERVER_GRPC_ADDRESS', 'routeserver', 'routeserver.grpcAddress'],
    ['ROUTESERVER_REFRESH_INTERVAL_MS', '0', 'routeserver.refreshIntervalMs'],
    ['ROUTESERVER_REQUEST_TIMEOUT_MS', 'soon', 'routeserver.requestTimeoutMs'],
    ['ROUTESERVER_FIRST_SYNC_TIMEOUT_MS', '-5', 'routeserver.firstSyncTimeoutMs'],
    ['ROUTESERVER_NEVER_SYNCED_POLICY', 'guess', 'routeserver.neverSyncedPolicy'],
    ['SIGNADOT_BASELINE_KIND', 'StatefulSet', 'signadot.baselineKind'],
    ['SIGNADOT_BASELINE_NAMESPACE', 'Orders', 'signadot.baselineNamespace'],
    ['SIGNADOT_BASELINE_NAME', 'worker_1', 'signadot.baselineName'],
    ['SIGNADOT_SANDBOX_NAME', '9-starts-with-digit', 'signadot.sandboxName'],
    ['SIGNADOT_SANDBOX_NAME', 'a'.repeat(31), 'signadot.sandboxName'],
    ['LOG_LEVEL', 'loud', 'telemetry.logLevel'],
    ['OTEL_TRACES_EXPORTER', 'jaeger', 'telemetry.tracesExporter'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', 'telemetry.otlpEndpoint'],
    ['HTTP_PORT', '70000', 'http.port'],
  ];
  for (const [env, value, setting] of badValues) {
    it(`rejects ${env}=${JSON.stringify(value)} naming ${setting} and ${env}`, () => {
      const error = rejects({ [env]: value });
      assert.equal(error.problems.length, 1, error.message);
      assert.equal(error.problems[0]?.setting, setting);
      assert.equal(error.problems[0]?.env, env);
      assert.match(error.message, new RegExp(`${setting.replace('.', '\\.')} \\(env ${env}\\)`));
    });
  }

  it('reports every bad setting at once', () => {
    const error = rejects({ KAFKA_BROKERS: 'x', HTTP_PORT: 'x', LOG_LEVEL: 'x' });
    assert.deepEqual(error.problems.map((p) => p.setting).sort(), [
      'http.port',
      'kafka.brokers',
      'telemetry.logLevel',
    ]);
  });

  it('never prints a secret in an error or a redacted view', () => {
    const config = loadConfig(schema(), { env: { TEMPORAL_API_KEY: 'super-secret-key' } });
    assert.equal(config.temporal.apiKey, 'super-secret-key');
    const view = redactConfig(schema(), config);
    assert.equal(view['temporal.apiKey'], '[redacted]');
    assert.doesNotMatch(JSON.stringify(view), /super-secret-key/);
  });

  it('loads a JSON file under the environment, and rejects unknown settings in it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'config-'));
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ kafka: { topic: 'from-file' }, http: { port: 9100 } }));
    const config = loadConfig(schema(), { env: { CONFIG_FILE: good, HTTP_PORT: '9200' } });
    assert.equal(config.kafka.topic, 'from-file');
    assert.equal(config.http.port, 9200, 'env overrides the file');

    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ kafka: { topics: 'typo' } }));
    const error = rejects({ CONFIG_FILE: bad });
    assert.equal(error.problems[0]?.setting, 'kafka.topics');
    assert.match(error.message, /unknown setting/);

    const missing = rejects({ CONFIG_FILE: path.join(dir, 'nope.json') });
    assert.equal(missing.problems[0]?.env, 'CONFIG_FILE');
  });
});
