/**
 * @packageDocumentation
 * Sandbox routing for Kafka → Temporal pipelines: configuration, routing-key codec, route table,
 * ownership decisions and Temporal interceptors. One entry point; the workflow-sandbox-safe parts
 * are also reachable as `@sandbox-routing/shared/workflow`.
 */
export * from './config';
export * from './events';
export * from './routes';
export * from './routing-key';
export * from './service';
export * from './temporal';
export * from './trail';
