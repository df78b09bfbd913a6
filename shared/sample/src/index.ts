export { type SampleWorkload, sampleApplication } from './application';
export {
  createEvent,
  EVENT_SCHEMA,
  type EventParseResult,
  type EventRejection,
  eventIdIn,
  eventProblems,
  type PipelineEvent,
  parseEvent,
} from './event';
export { SAMPLE_TASK_QUEUES } from './queues';
export { eventIdOfWorkflow, workflowIdOfEvent } from './workflow-id';
