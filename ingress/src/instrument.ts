/**
 * The ingress's `--require` entry: starts OpenTelemetry before anything else loads (the kafkajs
 * instrumentation continues each event's trace from its headers).
 * `node --require ./ingress/dist/instrument.js ingress/dist/main.js`
 */
import { instrument } from '@sandbox-routing/service-kit/instrumentation';

instrument({ serviceName: 'ingress' });
