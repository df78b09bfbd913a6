export { createIngress, type IngressApp, sandboxTopicSpec } from './app';
export * from './config';
export { createEventHandler, type EventHandlerDeps, type WorkflowStarter } from './handler';
export { WORKFLOW_FOR_EVENT_TYPE, workflowIdFor } from './workflows';
