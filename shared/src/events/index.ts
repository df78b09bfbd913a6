export {
  createEvent,
  EVENT_SCHEMA,
  type EventParseResult,
  type EventRejection,
  eventProblems,
  type PipelineEvent,
  parseEvent,
} from './event';
export { eventIdOfWorkflow, workflowIdOfEvent } from './workflow-id';
