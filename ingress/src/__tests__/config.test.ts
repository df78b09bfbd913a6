import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@sandbox-routing/service-kit';
import { serviceConfigTests } from '@sandbox-routing/testkit';
import { ingressSchema, loadIngressConfig } from '../config';

describe('ingress configuration', () => {
  serviceConfigTests({
    serviceName: 'ingress',
    schema: ingressSchema,
    load: loadIngressConfig,
    configDocsPath: path.resolve(__dirname, '../../../docs/configuration.md'),
    checkDefaults: (config) => assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']),
  });

  it('says a count is a count and echoes it: INGRESS_MAX_IN_FLIGHT=abc', () => {
    assert.throws(
      () => loadIngressConfig({ env: { INGRESS_MAX_IN_FLIGHT: 'abc' } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems[0]?.message === 'must be a whole number above 0, got "abc"',
    );
  });
});
