/**
 * The producer as a library: build, validate and publish test events with a routing key in
 * OpenTelemetry baggage. `cli.ts` is the command line on top of it.
 *
 * Importing this module does not load kafkajs; {@link connectSender} does, so call `startTelemetry`
 * from `@sandbox-routing/service-kit/telemetry` before it (the kafkajs instrumentation patches on load).
 *
 * @packageDocumentation
 */
export * from './config';
export * as load from './load';
export * from './log';
export * from './options';
export * from './payload';
export * from './publish';
