import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@sandbox-routing/service-kit';
import { assertDocsDocumentConfig } from '@sandbox-routing/testkit';
import { loadCommandSchema, loadLoadCommandConfig } from '../config';

describe('producer load configuration', () => {
  it('works on the local stack with no settings, and reads the console’s variables', () => {
    const config = loadLoadCommandConfig({ env: {} });
    assert.equal(config.results.topic, 'events.results');
    assert.deepEqual(config.baselines, { workerBaselineName: 'worker', ingressBaselineName: 'ingress' });
    const custom = loadLoadCommandConfig({
      env: {
        KAFKA_RESULTS_TOPIC: 'r',
        WORKER_BASELINE_NAME: 'orders-worker',
        SIGNADOT_ROUTESERVER_URL: 'http://rs:7778',
      },
    });
    assert.equal(custom.results.topic, 'r');
    assert.equal(custom.baselines.workerBaselineName, 'orders-worker');
    assert.equal(custom.routeserver.url, 'http://rs:7778');
    assert.throws(
      () => loadLoadCommandConfig({ env: { SIGNADOT_ROUTESERVER_URL: 'not a url' } }),
      (e: unknown) => e instanceof ConfigError && /SIGNADOT_ROUTESERVER_URL/.test(e.message),
    );
  });

  it('is documented in the configuration table of the docs', () => {
    assertDocsDocumentConfig(loadCommandSchema, path.resolve(__dirname, '../../../../docs/configuration.md'));
  });
});
