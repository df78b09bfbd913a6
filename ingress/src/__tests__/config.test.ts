import assert from 'node:assert/strict';
import path from 'node:path';
import { describe } from 'node:test';
import { serviceConfigTests } from '@sandbox-routing/testkit';
import { ingressSchema, loadIngressConfig } from '../config';

describe('ingress configuration', () => {
  serviceConfigTests({
    serviceName: 'ingress',
    schema: ingressSchema,
    load: loadIngressConfig,
    readmePath: path.resolve(__dirname, '../../../README.md'),
    checkDefaults: (config) => assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']),
  });
});
