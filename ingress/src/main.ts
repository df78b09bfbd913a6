/**
 * The ingress process: `node --require ./ingress/dist/instrument.js ingress/dist/main.js`. Exit codes: 78
 * invalid configuration or settings Kafka refuses, 1 when it cannot start or go on (see
 * `runConsumerService`, and docs/troubleshooting.md).
 */
import { runConsumerService } from '@sandbox-routing/service-kit/consumer-main';
import type { IngressApp } from './app';
import { type IngressConfig, loadIngressConfig } from './config';

runConsumerService<IngressConfig, IngressApp>({
  name: 'ingress',
  instrumentEntry: './ingress/dist/instrument.js',
  load: loadIngressConfig,
  create: (config, logger) => (require('./app') as typeof import('./app')).createIngress(config, { logger }),
});
