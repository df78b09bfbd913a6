/**
 * The producer's `--require` entry: starts OpenTelemetry before anything else loads, so the kafkajs
 * instrumentation writes `traceparent` (and the routing key's `baggage`) into every event it sends.
 * `node --require ./producer/dist/instrument.js producer/dist/cli.js publish …`
 */
import { instrument } from '@sandbox-routing/shared/instrumentation';

instrument({ serviceName: 'producer' });
