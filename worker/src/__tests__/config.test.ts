import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@sandbox-routing/service-kit';
import { serviceConfigTests } from '@sandbox-routing/testkit';
import { loadWorkerConfig, workerSchema } from '../config';

function rejects(env: Record<string, string>, setting: RegExp): void {
  assert.throws(
    () => loadWorkerConfig({ env }),
    (error: unknown) => error instanceof ConfigError && setting.test(error.message),
    JSON.stringify(env),
  );
}

describe('worker configuration', () => {
  serviceConfigTests({
    serviceName: 'worker',
    schema: workerSchema,
    load: loadWorkerConfig,
    configDocsPath: path.resolve(__dirname, '../../../docs/configuration.md'),
    checkDefaults(config) {
      assert.equal(config.temporal.address, '127.0.0.1:7233');
      assert.equal(config.http.port, 8082);
      assert.deepEqual(config.worker, {
        variant: 'standard',
        activityMismatchPolicy: 'log',
        recordSearchAttributes: true,
        shutdownGraceMs: 30_000,
        workflowBundle: '',
      });
    },
  });

  it('reads the worker settings from the environment', () => {
    const config = loadWorkerConfig({
      env: {
        WORKER_VARIANT: 'v2',
        WORKER_ACTIVITY_MISMATCH_POLICY: 'retry',
        WORKER_SHUTDOWN_GRACE_MS: '5000',
        WORKER_RECORD_SEARCH_ATTRIBUTES: 'false',
        WORKER_WORKFLOW_BUNDLE: 'package.json',
      },
    });
    assert.deepEqual(config.worker, {
      variant: 'v2',
      activityMismatchPolicy: 'retry',
      recordSearchAttributes: false,
      shutdownGraceMs: 5000,
      workflowBundle: 'package.json',
    });
  });

  it('rejects unknown variants, policies and non-positive grace periods', () => {
    rejects({ WORKER_VARIANT: 'v3' }, /worker\.variant \(env WORKER_VARIANT\)/);
    rejects(
      { WORKER_ACTIVITY_MISMATCH_POLICY: 'drop' },
      /worker\.activityMismatchPolicy \(env WORKER_ACTIVITY_MISMATCH_POLICY\)/,
    );
    rejects({ WORKER_SHUTDOWN_GRACE_MS: '0' }, /worker\.shutdownGraceMs \(env WORKER_SHUTDOWN_GRACE_MS\)/);
    rejects({ WORKER_SHUTDOWN_GRACE_MS: 'soon' }, /worker\.shutdownGraceMs/);
    rejects({ WORKER_RECORD_SEARCH_ATTRIBUTES: 'yes' }, /worker\.recordSearchAttributes/);
    rejects(
      { WORKER_WORKFLOW_BUNDLE: 'no/such/bundle.js' },
      /worker\.workflowBundle \(env WORKER_WORKFLOW_BUNDLE\).*no file at .*no\/such\/bundle\.js/,
    );
  });
});
