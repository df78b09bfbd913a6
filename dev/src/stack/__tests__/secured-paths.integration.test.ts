// @runs-alone: asserts that each refusal comes within 3 s (dev/src/test-runner.ts runs it with no other test file beside it).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { temporalAccessProblem } from '@sandbox-routing/service-kit';
import {
  createTestTopic,
  pollUntil,
  readMessages,
  runProcess,
  securedStack,
  stackEnv,
} from '@sandbox-routing/testkit';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import { paths, REPO_ROOT } from '../paths';
import { ensureTemporalCli } from '../tools';

/**
 * The local stack's secured paths behave as managed services do: Kafka's SASL_SSL listener
 * (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN over TLS) and the TLS terminator in front of Temporal, which
 * requires a client certificate. Every refusal comes quickly and says what a user needs to hear.
 */
const env = stackEnv();
const secured = securedStack(env);
Runtime.install({ logger: new DefaultLogger('WARN') });

const read = (file: string) => readFileSync(file);
const ca = read(secured.STACK_TLS_CA_FILE);
const clientCert = read(secured.STACK_TEMPORAL_TLS_CERT_FILE);
const clientKey = read(secured.STACK_TEMPORAL_TLS_KEY_FILE);
const wrongCa = read(secured.STACK_TLS_WRONG_CA_FILE);
const wrongCert = read(secured.STACK_TLS_WRONG_CERT_FILE);
const wrongKey = read(secured.STACK_TLS_WRONG_KEY_FILE);

const saslBrokers = secured.STACK_KAFKA_SASL_SSL_BROKERS.split(',');
const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
const sasl = (mechanism: (typeof MECHANISMS)[number], password = secured.STACK_KAFKA_SASL_PASSWORD) =>
  ({ mechanism, username: secured.STACK_KAFKA_SASL_USERNAME, password }) as SASLOptions;

/** A refusal must come at once, not after retrying or waiting for a deadline. */
const FAST_MS = 3000;

/** Runs `attempt`, which must fail; returns the error and how long it took, noted in the test's output. */
async function refusal(
  t: TestContext,
  attempt: () => Promise<unknown>,
): Promise<{ error: Error; ms: number }> {
  const started = performance.now();
  const error = await attempt().then(
    () => assert.fail('expected a refusal, but it succeeded'),
    (e: unknown) => e as Error,
  );
  const ms = Math.round(performance.now() - started);
  t.diagnostic(`${ms} ms: ${error.name}: ${error.message}`);
  return { error, ms };
}

/** A producer that connects and sends one record, then disconnects, whatever happened. */
async function produceOnce(config: Partial<KafkaConfig>, topic = 'events.results'): Promise<void> {
  const producer = new Kafka({ brokers: saslBrokers, logLevel: logLevel.NOTHING, ...config }).producer();
  try {
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'secured-paths' }] });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** kafkajs without its retries: what a refusal looks like at the first attempt. */
const NO_RETRIES = { retry: { retries: 0 }, connectionTimeout: 2000 } as const;

describe('Kafka SASL_SSL listener', () => {
  let topic: string;
  before(async () => {
    topic = await createTestTopic(env.KAFKA_BROKERS.split(','), 'secured');
  });

  for (const mechanism of MECHANISMS) {
    it(`produces and consumes with ${mechanism} over TLS`, async () => {
      const value = `${mechanism}-${randomUUID()}`;
      const security = { ssl: { ca }, sasl: sasl(mechanism) };
      const producer = new Kafka({
        brokers: saslBrokers,
        logLevel: logLevel.NOTHING,
        ...security,
      }).producer();
      await producer.connect();
      try {
        await producer.send({ topic, messages: [{ key: mechanism, value }] });
      } finally {
        await producer.disconnect();
      }
      const messages = await readMessages(saslBrokers, topic, 1, security);
      assert.ok(
        messages.some(({ message }) => message.value?.toString() === value),
        `${value} read back over SASL_SSL`,
      );
    });
  }

  it('takes a client certificate from its CA too (mTLS beside SASL)', async () => {
    await produceOnce({ ssl: { ca, cert: clientCert, key: clientKey }, sasl: sasl('scram-sha-512') });
  });

  it('verifies against a server name given apart from the address (SNI)', async (t) => {
    await produceOnce({ ssl: { ca, servername: 'localhost' }, sasl: sasl('plain') });
    const { error } = await refusal(t, () =>
      produceOnce({ ssl: { ca, servername: 'kafka.example.com' }, sasl: sasl('plain'), ...NO_RETRIES }),
    );
    assert.equal((error.cause as NodeJS.ErrnoException | undefined)?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  for (const mechanism of MECHANISMS) {
    it(`refuses a wrong ${mechanism} password at once, as an error kafkajs does not retry`, async (t) => {
      // kafkajs's default retry options: an authentication failure must not be retried.
      const { error, ms } = await refusal(t, () =>
        produceOnce({ ssl: { ca }, sasl: sasl(mechanism, 'not-the-password') }),
      );
      assert.equal(error.name, 'KafkaJSSASLAuthenticationError');
      assert.equal((error as Error & { retriable?: boolean }).retriable, false);
      assert.match(error.message, /authentication failed/i);
      assert.ok(ms < FAST_MS, `refused in ${ms} ms`);
    });
  }

  it('refuses a consumer with a wrong password when it connects', async (t) => {
    const consumer = new Kafka({
      brokers: saslBrokers,
      logLevel: logLevel.NOTHING,
      ssl: { ca },
      sasl: sasl('scram-sha-256', 'not-the-password'),
    }).consumer({ groupId: `secured-${randomUUID()}` });
    const { error, ms } = await refusal(t, () => consumer.connect());
    await consumer.disconnect().catch(() => undefined);
    assert.equal(error.name, 'KafkaJSSASLAuthenticationError');
    assert.ok(ms < FAST_MS, `refused in ${ms} ms`);
  });

  it('closes a plaintext connection at once (kafkajs: "Closed connection", which it retries)', async (t) => {
    const { error, ms } = await refusal(t, () => produceOnce({ ...NO_RETRIES }));
    assert.equal((error.cause as Error | undefined)?.name, 'KafkaJSConnectionClosedError');
    assert.ok(ms < FAST_MS, `refused in ${ms} ms`);
  });

  it('closes a TLS connection without SASL at its first request', async (t) => {
    const { error, ms } = await refusal(t, () => produceOnce({ ssl: { ca }, ...NO_RETRIES }));
    assert.equal((error.cause as Error | undefined)?.name, 'KafkaJSConnectionClosedError');
    assert.ok(ms < FAST_MS, `refused in ${ms} ms`);
  });

  it('is refused by a client that trusts another CA', async (t) => {
    const { error, ms } = await refusal(t, () =>
      produceOnce({ ssl: { ca: wrongCa }, sasl: sasl('plain'), ...NO_RETRIES }),
    );
    assert.equal((error.cause as NodeJS.ErrnoException | undefined)?.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.ok(ms < FAST_MS, `refused in ${ms} ms`);
  });

  it('refuses a client certificate from another CA', async (t) => {
    const { error, ms } = await refusal(t, () =>
      produceOnce({ ssl: { ca, cert: wrongCert, key: wrongKey }, sasl: sasl('plain'), ...NO_RETRIES }),
    );
    assert.equal(
      (error.cause as NodeJS.ErrnoException | undefined)?.code,
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
    );
    assert.ok(ms < FAST_MS, `refused in ${ms} ms`);
  });
});

describe('Temporal TLS terminator', () => {
  const address = secured.STACK_TEMPORAL_TLS_ADDRESS;
  const goodTls: TLSConfig = {
    serverRootCACertificate: ca,
    clientCertPair: { crt: clientCert, key: clientKey },
  };
  const connections: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const connection of connections) await connection.close().catch(() => undefined);
  });

  /** The terminator's log from this point on: what it says about the clients a test sends it. */
  const logFrom = () => {
    const file = path.join(paths.logs, 'temporal-tls.log');
    const start = statSync(file).size;
    return () => readFileSync(file, 'utf8').slice(start);
  };

  it('runs a workflow for a worker and a client with the good certificate', async () => {
    const taskQueue = `secured-${randomUUID()}`;
    const workflowId = `secured-${randomUUID()}`;
    // The worker (Temporal's Rust core) checks the IP address in the certificate, the client
    // (grpc-js) the name given apart from the address, as TEMPORAL_TLS_SERVER_NAME will.
    const nativeConnection = await NativeConnection.connect({ address, tls: goodTls });
    connections.push(nativeConnection);
    const connection = await Connection.connect({
      address,
      tls: { ...goodTls, serverNameOverride: 'localhost' },
    });
    connections.push(connection);
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./fixtures/smoke-workflows'),
    });
    const result = await worker.runUntil(
      new Client({ connection }).workflow.execute('greet', { taskQueue, workflowId, args: ['mTLS'] }),
    );
    assert.equal(result, 'hello, mTLS');

    // The Temporal CLI (the teardown's) reaches it with the same files.
    const cli = await runProcess(
      ensureTemporalCli(),
      [
        'workflow',
        'list',
        '--address',
        address,
        '--tls-ca-path',
        secured.STACK_TLS_CA_FILE,
        '--tls-cert-path',
        secured.STACK_TEMPORAL_TLS_CERT_FILE,
        '--tls-key-path',
        secured.STACK_TEMPORAL_TLS_KEY_FILE,
        '--query',
        `WorkflowId = '${workflowId}'`,
        '--output',
        'json',
      ],
      { timeoutMs: 15_000 },
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(workflowId));
  });

  it('refuses a client certificate from another CA', async (t) => {
    const newLog = logFrom();
    const { error, ms } = await refusal(t, () =>
      NativeConnection.connect({
        address,
        tls: { serverRootCACertificate: ca, clientCertPair: { crt: wrongCert, key: wrongKey } },
      }),
    );
    // Node's TLS server closes the connection after the handshake without an alert, so the SDK sees only
    // its end, in a word that depends on how far its first request got (a close without close_notify, a
    // reset, a broken pipe, a cancelled request): what the worker says names the TLS settings for each.
    assert.equal(error.name, 'TransportError');
    assert.match(temporalAccessProblem(error) ?? '', /TEMPORAL_TLS_CERT_FILE/, error.message);
    assert.ok(ms < FAST_MS, `refused in ${ms} ms`);
    // The terminator names the reason in its log (its own process: it may write a moment later).
    await pollUntil(() => /client certificate refused: UNABLE_TO_VERIFY_LEAF_SIGNATURE/.test(newLog()), {
      description: "the terminator's log to name the refused certificate",
      timeoutMs: 2000,
      intervalMs: 50,
    });
  });

  it('refuses a client without a certificate; the SDK and the CLI say so', async (t) => {
    const { error, ms } = await refusal(t, () =>
      NativeConnection.connect({ address, tls: { serverRootCACertificate: ca } }),
    );
    assert.equal(error.name, 'TransportError');
    // The server's alert (CertificateRequired) or, when the close reaches the core first, only the end of
    // the connection: either way what the worker says names the TLS settings (each form the core reports
    // is in temporalAccessProblem's unit test).
    assert.match(temporalAccessProblem(error) ?? '', /TEMPORAL_TLS_CERT_FILE/, error.message);
    assert.ok(ms < FAST_MS, `refused in ${ms} ms`);
    const cli = await runProcess(
      ensureTemporalCli(),
      ['workflow', 'list', '--address', address, '--tls-ca-path', secured.STACK_TLS_CA_FILE, '--limit', '1'],
      { timeoutMs: 15_000 },
    );
    assert.notEqual(cli.code, 0);
    // The alert comes after the client's side of the handshake (TLS 1.3): the Go client reads it, or,
    // when its first request is already being written, sees the broken pipe the close leaves (seen once).
    assert.match(cli.stderr + cli.stdout, /tls: certificate required|write: broken pipe/);
  });

  it('ends a plaintext connection at once', async (t) => {
    const { error, ms } = await refusal(t, () => NativeConnection.connect({ address }));
    assert.equal(error.name, 'TransportError');
    assert.ok(ms < FAST_MS, `refused in ${ms} ms`);
  });

  it('is refused by a client that trusts another CA', async (t) => {
    const { error, ms } = await refusal(t, () =>
      NativeConnection.connect({
        address,
        tls: { serverRootCACertificate: wrongCa, clientCertPair: { crt: clientCert, key: clientKey } },
      }),
    );
    assert.match(error.message, /UnknownIssuer/);
    assert.ok(ms < FAST_MS, `refused in ${ms} ms`);
  });

  it('gives the grpc-js client only its connect deadline to report, whatever the refusal', async (t) => {
    // What the SDK's Connection (grpc-js) says when the terminator refuses it: nothing but the deadline.
    const { error, ms } = await refusal(t, () =>
      Connection.connect({
        address,
        tls: { serverRootCACertificate: ca, serverNameOverride: 'localhost' },
        connectTimeout: 1000,
      }),
    );
    assert.match(error.message, /Failed to connect before the deadline/);
    assert.ok(ms < FAST_MS, `gave up in ${ms} ms`);
  });
});

describe('local stack: secured-path settings and secrets', () => {
  it('gives `stack exec` the secured paths under STACK_ names only, none of them a service setting', async () => {
    const cli = path.join(REPO_ROOT, 'dev/dist/stack/cli.js');
    // The stack runs, so `up` and `exec` only check it; `exec` prints the environment its command gets.
    const run = await runProcess(
      process.execPath,
      [cli, 'exec', '--', process.execPath, '-e', 'console.log(JSON.stringify(process.env))'],
      { timeoutMs: 60_000 },
    );
    assert.equal(run.code, 0, run.stderr);
    const childEnv = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, string>;
    // Services read KAFKA_SASL_*, KAFKA_TLS_* and TEMPORAL_TLS_*: the stack must set none of them.
    const serviceSettings = Object.keys(childEnv).filter((key) =>
      /^(KAFKA_SASL_|KAFKA_TLS|TEMPORAL_TLS|TEMPORAL_API_KEY)/.test(key),
    );
    assert.deepEqual(serviceSettings, []);
    assert.equal(childEnv.STACK_KAFKA_SASL_SSL_BROKERS, secured.STACK_KAFKA_SASL_SSL_BROKERS);
    assert.equal(childEnv.STACK_TEMPORAL_TLS_ADDRESS, secured.STACK_TEMPORAL_TLS_ADDRESS);
    assert.equal(childEnv.STACK_TEMPORAL_TLS_CERT_FILE, secured.STACK_TEMPORAL_TLS_CERT_FILE);

    const up = await runProcess(process.execPath, [cli, 'up'], { timeoutMs: 60_000 });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /STACK_KAFKA_SASL_PASSWORD=\(secret, in \.stack\/env\)/);
    assert.ok(!up.stdout.includes(secured.STACK_KAFKA_SASL_PASSWORD), 'password printed by `stack up`');
  });

  it('writes neither the SASL password nor a private key to any log of the stack', () => {
    const logs = readdirSync(paths.logs).filter((f) => f.endsWith('.log'));
    assert.ok(logs.includes('kafka.log') && logs.includes('temporal-tls.log'), logs.join(', '));
    for (const file of logs) {
      const text = readFileSync(path.join(paths.logs, file), 'utf8');
      assert.ok(!text.includes(secured.STACK_KAFKA_SASL_PASSWORD), `password in ${file}`);
      assert.ok(!/PRIVATE KEY/.test(text), `key material in ${file}`);
    }
  });

  it('keeps keys and the password readable by their owner only', () => {
    const secrets = [
      secured.STACK_TEMPORAL_TLS_KEY_FILE,
      secured.STACK_TLS_WRONG_KEY_FILE,
      path.join(paths.tls, 'server.key'),
      path.join(paths.tls, 'server-keystore.pem'),
      path.join(paths.data, 'kafka-sasl-password'),
      path.join(paths.data, 'kafka-server.properties'),
    ];
    for (const file of secrets) assert.equal(statSync(file).mode & 0o077, 0, `${file} is readable by others`);
  });
});
