/**
 * Helpers for tests and dev tooling (not part of the routing API): polling with a deadline instead of
 * sleeping, and the local stack's addresses.
 */
export { DeadlineExceededError, type PollOptions, pollUntil } from './poll';
export { assertReadmeDocumentsConfig } from './readme';
export { type StackEnv, stackEnv } from './stack-env';
