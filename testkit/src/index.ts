/**
 * Test tooling for the workspaces (not part of the routing library, never deployed): polling with a deadline instead of
 * sleeping, the local stack's addresses, child processes, Kafka topics to test against, traces in the stack's Jaeger, and Temporal run histories.
 */

export { assertDocsDocumentConfig } from './config-docs';
export { FaultProxy } from './fault-proxy';
export { awaitTrace, readTrace, type TraceSpan } from './jaeger';
export { createTestTopic, headerStrings, type ReadMessage, readMessages } from './kafka';
export { PaymentsService } from './payments';
export { DeadlineExceededError, type PollOptions, pollUntil } from './poll';
export {
  freePort,
  type ProcessOptions,
  type ProcessRun,
  type RunningProcess,
  runProcess,
  startProcess,
} from './processes';
export { prometheusNamingProblems } from './prometheus';
export { type ServiceConfigCase, serviceConfigTests } from './service-config';
export { jaegerUrl, type SecuredStackEnv, type StackEnv, securedStack, stackEnv } from './stack-env';
export { type RecordedRun, runHistories } from './temporal';
