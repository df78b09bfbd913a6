/**
 * The worker's `--require` entry: starts OpenTelemetry before anything else loads.
 * `node --require ./worker/dist/instrument.js worker/dist/main.js`
 */
import { instrument } from '@sandbox-routing/service-kit/instrumentation';

instrument({ serviceName: 'worker' });
