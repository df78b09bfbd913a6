/**
 * @packageDocumentation
 * The trail: records of where each event's work ran, published by workers to the results topic and
 * read by the console and by load tests. See record.ts for the format.
 */
export {
  type ActivityStep,
  type ConsumerStep,
  type ExpectedOwners,
  expectedOwnersOf,
  misplacements,
  type RunStep,
  TrailBook,
  type WorkflowTrail,
} from './book';
export {
  TrailEmitter,
  type TrailEmitterOptions,
  type TrailEmitterStats,
  type TrailLogger,
  type TrailMessage,
  type TrailTransport,
} from './emitter';
export {
  checkTrailKafkaAccess,
  type KafkaTrailOptions,
  kafkaTrailTransport,
  type ServiceTrailSettings,
  serviceTrailEmitter,
  startOffsets,
  subscribeTrail,
  type TrailStart,
  type TrailSubscription,
  type TrailSubscriptionOptions,
} from './kafka';
export {
  MAX_TRAIL_RECORD_BYTES,
  parseTrailRecord,
  TRAIL_RECORD_SCHEMA,
  type TrailParseResult,
} from './parse';
export {
  type ActivityRecord,
  type ConsumerDecidedRecord,
  type IngressDecidedRecord,
  TRAIL_RECORD_VERSION,
  type TrailError,
  type TrailRecord,
  type TrailRecordKind,
  trailError,
  trailRecordKey,
  type WorkflowClosedRecord,
  type WorkflowCloseKind,
  type WorkflowRecord,
  type WorkflowStartedRecord,
} from './record';
export { TRAIL_SINK, type TrailSinks } from './sinks';
export { TRAIL_WORKFLOW_INTERCEPTORS, type TrailOptions, trailWorkerOptions } from './worker';
