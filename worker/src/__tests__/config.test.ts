import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@sandbox-routing/shared';
import { assertReadmeDocumentsConfig } from '@sandbox-routing/shared/testing';
import { loadWorkerConfig, workerSchema } from '../config';

describe('worker configuration', () => {
  it('validates with no environment (local-stack defaults)', () => {
    const config = loadWorkerConfig({ env: {} });
    assert.equal(config.temporal.address, '127.0.0.1:7233');
    assert.equal(config.telemetry.serviceName, 'worker');
  });

  it('stops with a message naming the setting and its env var', () => {
    assert.throws(
      () => loadWorkerConfig({ env: { LOG_LEVEL: 'chatty' } }),
      (error: unknown) =>
        error instanceof ConfigError && /telemetry\.logLevel \(env LOG_LEVEL\)/.test(error.message),
    );
  });

  it('is documented in the README configuration table', () => {
    assertReadmeDocumentsConfig(workerSchema, path.resolve(__dirname, '../../../README.md'));
  });
});
