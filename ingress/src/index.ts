export { consumerGroupOf, type RunningIngress, startIngress } from './app';
export * from './config';
export { DeadLetterPublisher, type DeadLetterReason } from './dead-letter';
export { EventHandler, type EventHandlerDeps } from './handler';
export { WORKFLOW_FOR_EVENT_TYPE, workflowIdFor } from './workflows';
