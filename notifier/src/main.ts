/**
 * The notifier process: `node --require ./notifier/dist/instrument.js notifier/dist/main.js`. Exit codes:
 * 78 invalid configuration or settings Kafka refuses, 1 when it cannot start or go on.
 */
import { runConsumerService } from '@sandbox-routing/service-kit/consumer-main';
import type { NotifierApp } from './app';
import { loadNotifierConfig, type NotifierConfig } from './config';

runConsumerService<NotifierConfig, NotifierApp>({
  name: 'notifier',
  instrumentEntry: './notifier/dist/instrument.js',
  load: loadNotifierConfig,
  create: (config, logger) => (require('./app') as typeof import('./app')).createNotifier(config, { logger }),
});
