/**
 * @packageDocumentation
 * The sandbox-aware worker's library side: configuration, the sample order domain (types and
 * activities; workflows are in `workflows.ts`, bundled by the worker) and sandbox teardown.
 * The process entry points are `main.ts` (the worker, wiring `app.ts`) and `teardown.ts` (the teardown
 * command).
 */
export * from './activities';
export { createWorkerApp, type WorkerApp } from './app';
export * from './config';
export * from './order';
export * from './sandbox-teardown';
