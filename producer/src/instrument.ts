/**
 * The producer's `--require` entry: starts OpenTelemetry before anything else loads, so the kafkajs
 * instrumentation writes `traceparent` (and the routing key's `baggage`) into every event it sends.
 * `node --require ./producer/dist/instrument.js producer/dist/cli.js publish …`; the `sandbox-routing` bin
 * (producer/bin) loads it first by itself.
 */
import { instrument } from '@sandbox-routing/service-kit/instrumentation';

instrument({ serviceName: 'producer' });
