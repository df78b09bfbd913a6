/**
 * The notifier's `--require` entry: starts OpenTelemetry before anything else loads (the kafkajs
 * instrumentation continues each event's trace from its headers).
 * `node --require ./notifier/dist/instrument.js notifier/dist/main.js`
 */
import { instrument } from '@sandbox-routing/service-kit/instrumentation';

instrument({ serviceName: 'notifier' });
