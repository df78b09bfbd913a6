/**
 * @packageDocumentation
 * The sandbox-aware worker's library side: configuration, the sample order domain (types and
 * activities; workflows are in `workflows.ts`, bundled by the worker) and sandbox teardown.
 * The process entry points are `main.ts` (the worker) and `teardown.ts` (the teardown command).
 */
export * from './activities';
export * from './config';
export * from './order';
export * from './sandbox-teardown';
