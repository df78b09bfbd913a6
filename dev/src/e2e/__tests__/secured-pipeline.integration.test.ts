import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readMessages, runProcess, securedStack, stackEnv } from '@sandbox-routing/testkit';
import { checkoutLauncher } from '../../pipeline/launcher';
import { Pipeline } from '../../pipeline/pipeline';
import type { ServiceProcess } from '../../pipeline/service-process';
import { STACK_DIR } from '../../stack/paths';

/**
 * The whole pipeline over the stack's secured paths, as against a managed Kafka and Temporal Cloud:
 * every service reaches Kafka on its SASL_SSL listener (SCRAM, the password from a file) and Temporal
 * through the TLS terminator with a client certificate (mTLS). Bad credentials stop a service at
 * once, naming the setting, and no secret reaches a log line or /metrics.
 */
const env = stackEnv();
const secured = securedStack(env);
const id = randomUUID().slice(0, 6);
const logDir = path.join(STACK_DIR, 'logs', `e2e-secured-${id}`);
mkdirSync(logDir, { recursive: true });

/** Secrets the services are given, from files as Kubernetes Secrets are mounted. */
const passwordFile = path.join(logDir, 'kafka-sasl-password');
writeFileSync(passwordFile, `${secured.STACK_KAFKA_SASL_PASSWORD}\n`, { mode: 0o600 });
const API_KEY = `test-api-key-${randomUUID()}`;
const apiKeyFile = path.join(logDir, 'temporal-api-key');
writeFileSync(apiKeyFile, API_KEY, { mode: 0o600 });

/** Kafka over SASL_SSL with SCRAM-SHA-512, Temporal over mTLS (the server certificate names localhost). */
const SECURED: NodeJS.ProcessEnv = {
  KAFKA_BROKERS: secured.STACK_KAFKA_SASL_SSL_BROKERS,
  KAFKA_TLS_CA_FILE: secured.STACK_TLS_CA_FILE,
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: secured.STACK_KAFKA_SASL_USERNAME,
  KAFKA_SASL_PASSWORD_FILE: passwordFile,
  TEMPORAL_ADDRESS: secured.STACK_TEMPORAL_TLS_ADDRESS,
  TEMPORAL_TLS_CA_FILE: secured.STACK_TLS_CA_FILE,
  TEMPORAL_TLS_CERT_FILE: secured.STACK_TEMPORAL_TLS_CERT_FILE,
  TEMPORAL_TLS_KEY_FILE: secured.STACK_TEMPORAL_TLS_KEY_FILE,
  TEMPORAL_TLS_SERVER_NAME: 'localhost',
  // The terminator passes it on and the dev server ignores it: here to prove it is never written out.
  TEMPORAL_API_KEY_FILE: apiKeyFile,
};

/** A refusal must come at once: node's start plus one connection, not retries. */
const FAST_MS = 15_000;

describe('the pipeline over SASL_SSL Kafka and mTLS Temporal', () => {
  let pipeline: Pipeline;
  let services: ServiceProcess[] = [];

  before(async () => {
    pipeline = await Pipeline.isolated(env, logDir);
    pipeline.overAddresses(SECURED);
  });
  after(async () => {
    await pipeline?.stop();
  });

  it('publishes, decides, runs the workflow with the payments service, and writes the trail', {
    timeout: 180_000,
  }, async () => {
    services = [await pipeline.startIngress(), await pipeline.startWorker()];
    const summary = await pipeline.publish({ count: 3, idPrefix: `secured-${id}` });
    assert.equal(summary.sent, 3);
    const ids = summary.events.map((e) => e.id);
    const outcomes = await pipeline.awaitOutcomes(ids, 120_000);
    for (const eventId of ids) {
      const outcome = outcomes.get(eventId);
      assert.equal(outcome?.status, 'COMPLETED', eventId);
      assert.equal(outcome?.paymentsOn, 'baseline', `${eventId} charged by the payments service`);
    }
    // The trail, read back over SASL_SSL: the ingress's decision and the worker's run of each event.
    const security = {
      ssl: { ca: readFileSync(secured.STACK_TLS_CA_FILE) },
      sasl: {
        mechanism: 'scram-sha-256' as const,
        username: secured.STACK_KAFKA_SASL_USERNAME,
        password: secured.STACK_KAFKA_SASL_PASSWORD,
      },
    };
    const records = (
      await readMessages(secured.STACK_KAFKA_SASL_SSL_BROKERS.split(','), pipeline.resultsTopic, 6, security)
    ).map(({ message }) => message.value?.toString() ?? '');
    for (const eventId of ids) {
      assert.ok(
        records.some((r) => r.includes(eventId) && r.includes('ingress.decided')),
        `${eventId} decided`,
      );
      assert.ok(
        records.some((r) => r.includes(eventId) && !r.includes('ingress.decided')),
        `${eventId} run`,
      );
    }
  });

  it('writes no secret to any log line or to /metrics', async () => {
    assert.ok(services.length > 0, 'the pipeline ran');
    const texts: [string, string][] = [];
    for (const service of services)
      texts.push([`${service.name} /metrics`, await (await fetch(`${service.httpUrl}/metrics`)).text()]);
    for (const file of readdirSync(logDir).filter((f) => f.endsWith('.log'))) {
      texts.push([file, readFileSync(path.join(logDir, file), 'utf8')]);
    }
    assert.ok(
      texts.some(([name]) => name.startsWith('payments')),
      'the payments service log is scanned',
    );
    for (const [name, text] of texts) {
      assert.ok(text.length > 0, `${name} is empty`);
      assert.ok(!text.includes(secured.STACK_KAFKA_SASL_PASSWORD), `SASL password in ${name}`);
      assert.ok(!text.includes(API_KEY), `API key in ${name}`);
      assert.ok(!/PRIVATE KEY/.test(text), `key material in ${name}`);
    }
  });
});

/** Runs a service or CLI to its end with `overrides` over the secured settings. */
async function runRefused(entry: string, args: string[], overrides: NodeJS.ProcessEnv) {
  const launch = checkoutLauncher.launch(entry, args, {
    ...SECURED,
    SIGNADOT_ROUTESERVER_URL: env.SIGNADOT_ROUTESERVER_URL,
    SIGNADOT_ROUTESERVER_GRPC_ADDRESS: env.SIGNADOT_ROUTESERVER_GRPC_ADDRESS,
    KAFKA_CONSUMER_GROUP: `secured-refused-${randomUUID().slice(0, 6)}`,
    HTTP_PORT: '0',
    ...overrides,
  });
  const started = performance.now();
  const run = await runProcess(launch.command, launch.args, {
    env: launch.env,
    inheritEnv: false,
    cwd: launch.cwd,
    timeoutMs: 60_000,
  });
  return { ...run, ms: Math.round(performance.now() - started) };
}

describe('refused credentials or certificates stop a service or CLI at once, naming the setting (exit 78)', () => {
  const cases: [string, string, string[], NodeJS.ProcessEnv, RegExp][] = [
    [
      'the ingress with a wrong SASL password',
      'ingress/dist/main.js',
      [],
      { KAFKA_SASL_PASSWORD_FILE: '', KAFKA_SASL_PASSWORD: 'not-the-password' },
      /Kafka refused the SASL credentials \(check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD/,
    ],
    [
      'a publish with a client certificate from another CA',
      'producer/dist/cli.js',
      ['publish', '--count', '1'],
      {
        KAFKA_TLS_CERT_FILE: secured.STACK_TLS_WRONG_CERT_FILE,
        KAFKA_TLS_KEY_FILE: secured.STACK_TLS_WRONG_KEY_FILE,
      },
      /refused the TLS connection \(ERR_SSL_\w+; check KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE/,
    ],
    [
      'a publish that trusts another CA',
      'producer/dist/cli.js',
      ['publish', '--count', '1'],
      { KAFKA_TLS_CA_FILE: secured.STACK_TLS_WRONG_CA_FILE },
      /certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE; check KAFKA_TLS_CA_FILE/,
    ],
    [
      'the worker with a client certificate Temporal does not take',
      'worker/dist/main.js',
      [],
      {
        TEMPORAL_TLS_CERT_FILE: secured.STACK_TLS_WRONG_CERT_FILE,
        TEMPORAL_TLS_KEY_FILE: secured.STACK_TLS_WRONG_KEY_FILE,
        TEMPORAL_TASK_QUEUE: `secured-refused-${id}`,
      },
      // The core words the terminator's refusal four ways (see the secured-paths test): either message.
      /Temporal (closed|refused) the TLS connection[^(]*\(check TEMPORAL_TLS_CA_FILE, TEMPORAL_TLS_CERT_FILE, TEMPORAL_TLS_KEY_FILE/,
    ],
    [
      'the ingress in plaintext against the TLS listener',
      'ingress/dist/main.js',
      [],
      {
        KAFKA_TLS_CA_FILE: '',
        KAFKA_SASL_MECHANISM: 'none',
        KAFKA_SASL_USERNAME: '',
        KAFKA_SASL_PASSWORD_FILE: '',
      },
      /closed the connection at the first request: it most likely expects TLS or SASL \(check KAFKA_TLS, KAFKA_SASL_MECHANISM/,
    ],
  ];
  for (const [what, entry, args, overrides, message] of cases) {
    it(what, { timeout: 90_000 }, async (t) => {
      const run = await runRefused(entry, args, overrides);
      t.diagnostic(`${run.ms} ms, exit ${run.code}`);
      assert.equal(run.code, 78, run.stderr.slice(-2000));
      assert.match(run.stderr + run.stdout, message);
      assert.ok(run.ms < FAST_MS, `stopped in ${run.ms} ms`);
    });
  }
});
