import assert from 'node:assert/strict';
import path from 'node:path';
import { describe } from 'node:test';
import { serviceConfigTests } from '@sandbox-routing/testkit';
import { loadProducerConfig, producerSchema } from '../config';

describe('producer configuration', () => {
  serviceConfigTests({
    serviceName: 'producer',
    schema: producerSchema,
    load: loadProducerConfig,
    configDocsPath: path.resolve(__dirname, '../../../docs/configuration.md'),
    checkDefaults: (config) => assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']),
  });
});
