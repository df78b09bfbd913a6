export { createIngress, type IngressApp, sandboxTopicSpec } from './app';
export * from './config';
export { ConsumerLoop, type Outcome, type RecordHandler } from './consumer-loop';
export { DeadLetterPublisher, type DeadLetterReason, DeadLetterRefusedError } from './dead-letter';
export { type FenceMarker, fenceOf, fenceRecord } from './fence';
export {
  type EventAction,
  EventHandler,
  type EventHandlerDeps,
  type HandlerMode,
  type WorkflowStarter,
} from './handler';
export * from './kafka/records';
export * from './kafka/seam';
export {
  type DrainReport,
  type DrainRequest,
  SandboxDrain,
  TeardownRefusedError,
  TeardownTimeoutError,
} from './sandbox-drain';
export { consumerGroupOf, SandboxForwarder, sandboxTopicOf } from './sandbox-topics';
export { WORKFLOW_FOR_EVENT_TYPE, workflowIdFor } from './workflows';
