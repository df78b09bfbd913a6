import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@sandbox-routing/shared';
import { assertReadmeDocumentsConfig } from '@sandbox-routing/testkit';
import { ingressSchema, loadIngressConfig } from '../config';

describe('ingress configuration', () => {
  it('validates with no environment (local-stack defaults)', () => {
    const config = loadIngressConfig({ env: {} });
    assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']);
    assert.equal(config.telemetry.serviceName, 'ingress');
  });

  it('stops with a message naming the setting and its env var', () => {
    assert.throws(
      () => loadIngressConfig({ env: { LOG_LEVEL: 'chatty' } }),
      (error: unknown) =>
        error instanceof ConfigError && /telemetry\.logLevel \(env LOG_LEVEL\)/.test(error.message),
    );
  });

  it('is documented in the README configuration table', () => {
    assertReadmeDocumentsConfig(ingressSchema, path.resolve(__dirname, '../../../README.md'));
  });
});
