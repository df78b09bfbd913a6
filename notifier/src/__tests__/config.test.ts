import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { serviceConfigTests } from '@sandbox-routing/testkit';
import { loadNotifierConfig, notifierSchema } from '../config';

describe('notifier configuration', () => {
  serviceConfigTests({
    serviceName: 'notifier',
    schema: notifierSchema,
    load: loadNotifierConfig,
    configDocsPath: path.resolve(__dirname, '../../../docs/configuration.md'),
    checkDefaults: (config) => {
      assert.equal(config.kafka.consumerGroup, 'notifier');
      assert.equal(config.signadot.baselineName, 'notifier');
      assert.equal(config.http.port, 8084);
    },
  });

  it('takes its own settings under NOTIFIER_ and the group from KAFKA_CONSUMER_GROUP', () => {
    const config = loadNotifierConfig({
      env: { NOTIFIER_MAX_IN_FLIGHT: '4', KAFKA_CONSUMER_GROUP: 'notifier-eu', INGRESS_MAX_IN_FLIGHT: '9' },
    });
    assert.equal(config.kafka.maxInFlight, 4);
    assert.equal(config.kafka.consumerGroup, 'notifier-eu');
  });
});
