import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  ConfigError,
  kafkaSchema,
  kafkaSecurityOptions,
  loadConfig,
  redactConfig,
  temporalSchema,
  temporalSecurityOptions,
} from '..';

/** The settings of the secured connections, read from the environment at start, files included. */
const dir = mkdtempSync(path.join(tmpdir(), 'secured-settings-'));
const file = (name: string, content: string) => {
  const full = path.join(dir, name);
  writeFileSync(full, content, { mode: 0o600 });
  return full;
};
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const ca = file('ca.crt', CERT);
const cert = file('client.crt', CERT);
const key = file('client.key', KEY);
const passwordFile = file('password', 's3cret-from-file\n');
const emptyFile = file('empty', '');

const schema = { kafka: kafkaSchema({ clientId: 'test' }), temporal: temporalSchema() };
const load = (env: Record<string, string>) => loadConfig(schema, { env });

/** The problems a load reports, as `ENV: message` lines. */
function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map((p) => `${p.env}: ${p.message}`);
  }
  return assert.fail('expected a ConfigError');
}

describe('Kafka security settings', () => {
  it('are plaintext without SASL by default', () => {
    assert.deepEqual(kafkaSecurityOptions(load({}).kafka.security), {});
  });

  it('turn TLS files, server name and SCRAM into kafkajs options, the password file winning', () => {
    const config = load({
      KAFKA_TLS_CA_FILE: ca,
      KAFKA_TLS_CERT_FILE: cert,
      KAFKA_TLS_KEY_FILE: key,
      KAFKA_TLS_SERVER_NAME: 'kafka.example.com',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'alice',
      KAFKA_SASL_PASSWORD: 'from-env',
      KAFKA_SASL_PASSWORD_FILE: passwordFile,
    });
    const options = kafkaSecurityOptions(config.kafka.security);
    assert.deepEqual(options.ssl, {
      ca: Buffer.from(CERT),
      cert: Buffer.from(CERT),
      key: Buffer.from(KEY),
      servername: 'kafka.example.com',
    });
    assert.deepEqual(options.sasl, {
      mechanism: 'scram-sha-512',
      username: 'alice',
      password: 's3cret-from-file',
    });
  });

  it('use the system CAs for KAFKA_TLS=true alone', () => {
    assert.deepEqual(kafkaSecurityOptions(load({ KAFKA_TLS: 'true' }).kafka.security), { ssl: true });
  });

  it('stop the start naming each setting that is wrong', () => {
    assert.deepEqual(problems({ KAFKA_TLS_CA_FILE: path.join(dir, 'missing.crt') }), [
      `KAFKA_TLS_CA_FILE: file not found: ${path.join(dir, 'missing.crt')}`,
    ]);
    assert.deepEqual(problems({ KAFKA_TLS_CERT_FILE: cert }), [
      'KAFKA_TLS_KEY_FILE: set both the client certificate and its key (KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE), or neither',
    ]);
    assert.deepEqual(problems({ KAFKA_TLS_CERT_FILE: key, KAFKA_TLS_KEY_FILE: cert }), [
      `KAFKA_TLS_CERT_FILE: ${key} holds no PEM certificate`,
      `KAFKA_TLS_KEY_FILE: ${cert} holds no PEM private key`,
    ]);
    assert.deepEqual(problems({ KAFKA_SASL_MECHANISM: 'plain' }), [
      'KAFKA_SASL_USERNAME: must be set for KAFKA_SASL_MECHANISM=plain',
      'KAFKA_SASL_PASSWORD: KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE must be set for KAFKA_SASL_MECHANISM=plain',
    ]);
    assert.deepEqual(
      problems({
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: 'a',
        KAFKA_SASL_PASSWORD_FILE: emptyFile,
      }),
      [`KAFKA_SASL_PASSWORD_FILE: ${emptyFile} is empty`],
    );
    assert.match(
      problems({ KAFKA_SASL_MECHANISM: 'scram' })[0] ?? '',
      /^KAFKA_SASL_MECHANISM: must be one of/,
    );
    assert.deepEqual(problems({ KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 'x' }), [
      "KAFKA_SASL_MECHANISM: is 'none' but a SASL user or password is set: set the mechanism (plain, scram-sha-256, scram-sha-512)",
    ]);
    assert.deepEqual(problems({ KAFKA_TLS_SERVER_NAME: 'kafka' }), [
      'KAFKA_TLS_SERVER_NAME: is a TLS setting: set KAFKA_TLS=true too',
    ]);
  });

  it('never show the password in the start-up view of the configuration', () => {
    const config = load({
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'a',
      KAFKA_SASL_PASSWORD: 'hunter2',
    });
    assert.ok(!JSON.stringify(redactConfig(schema, config)).includes('hunter2'));
    // A problem names the file, never its content.
    const text = problems({ KAFKA_TLS_CA_FILE: key }).join('\n');
    assert.ok(!text.includes('PRIVATE KEY') && !text.includes('MIIE'), text);
  });
});

describe('Temporal security settings', () => {
  it('are plaintext by default (the dev server, a local proxy)', () => {
    assert.deepEqual(temporalSecurityOptions(load({}).temporal), {});
  });

  it('turn mTLS files, server name and the API key file into SDK options', () => {
    const keyFile = file('api-key', 'tcld-key\n');
    const config = load({
      TEMPORAL_TLS_CA_FILE: ca,
      TEMPORAL_TLS_CERT_FILE: cert,
      TEMPORAL_TLS_KEY_FILE: key,
      TEMPORAL_TLS_SERVER_NAME: 'ns.tmprl.cloud',
      TEMPORAL_API_KEY: 'from-env',
      TEMPORAL_API_KEY_FILE: keyFile,
    });
    assert.deepEqual(temporalSecurityOptions(config.temporal), {
      tls: {
        serverRootCACertificate: Buffer.from(CERT),
        clientCertPair: { crt: Buffer.from(CERT), key: Buffer.from(KEY) },
        serverNameOverride: 'ns.tmprl.cloud',
      },
      apiKey: 'tcld-key',
    });
    assert.ok(!JSON.stringify(redactConfig(schema, config)).includes('from-env'));
  });

  it('stop the start naming each setting that is wrong', () => {
    assert.deepEqual(problems({ TEMPORAL_TLS_KEY_FILE: key }), [
      'TEMPORAL_TLS_CERT_FILE: set both the client certificate and its key (TEMPORAL_TLS_CERT_FILE, TEMPORAL_TLS_KEY_FILE), or neither',
    ]);
    assert.deepEqual(problems({ TEMPORAL_API_KEY_FILE: emptyFile }), [
      `TEMPORAL_API_KEY_FILE: ${emptyFile} is empty`,
    ]);
    assert.deepEqual(problems({ TEMPORAL_TLS_CA_FILE: dir }), [`TEMPORAL_TLS_CA_FILE: ${dir} is not a file`]);
  });
});
