/**
 * @packageDocumentation
 * Kafka for sandbox routing. The decide-once consumer (DESIGN §4, §9): a consumer workload's baseline
 * group decides each record's owner once and forwards a fork's records, byte for byte with the decision,
 * to a topic of the fork's own; you give it what processing a record means. Behind a seam
 * (`MessageSource`, `MessageSink`, `TopicAdmin`) with kafkajs as the adapter; the consumer loop (records
 * in flight per partition, contiguous commits, back-off), dead letters, the forwarder and the teardown
 * that returns a deleted sandbox's records. Also the kafkajs log bridge and consumer restarts.
 * In-memory fakes for tests: `@sandbox-routing/kafka/testing`.
 */

export {
  type AccessProbe,
  checkKafkaAccess,
  KafkaAccessError,
  kafkaAccessProblem,
  kafkaClosedConnectionHint,
} from './access';
export {
  type KafkaClients,
  KafkajsAdmin,
  type KafkajsOptions,
  type KafkajsSecurity,
  KafkajsSink,
  KafkajsSource,
  type KafkajsSourceOptions,
  kafkajsClients,
} from './adapter';
export { type BackoffPolicy, backoffDelay } from './backoff';
export { ConsumerLoop, type ConsumerLoopOptions, type Outcome, type RecordHandler } from './consumer-loop';
export { type ConsumerRestarts, consumerRestarts, isOutageCrash } from './consumer-restarts';
export {
  DEAD_LETTER_HEADERS,
  type DeadLetterFacts,
  DeadLetterPublisher,
  type DeadLetterReason,
  DeadLetterRefusedError,
} from './dead-letter';
export {
  DecideOnceHandler,
  type DecideOnceMode,
  type DecideOnceOptions,
  type Processed,
  type RecordContext,
  type RecordOutcome,
  type RecordProcessor,
} from './decide-once';
export { DecideOnceConsumer, type DecideOnceConsumerOptions } from './decide-once-consumer';
export {
  FENCE_GROUP_HEADER,
  type FenceMarker,
  fenceOf,
  fenceRecord,
  isControlRecord,
  isForAnotherGroup,
  RETURNED_FOR_HEADER,
} from './fence';
export {
  consumerGroupOf,
  type ForwardResult,
  forwardTopicOf,
  SandboxForwarder,
  type SandboxForwarderOptions,
} from './forward-topics';
export {
  classifyKafkajsError,
  type FieldLogger,
  isKafkajsError,
  KAFKAJS_LOG_LEVEL,
  type KafkaErrorReason,
  type KafkajsLogEntry,
  type KafkajsLogOptions,
  kafkajsLogCreator,
  kafkajsLogLevel,
  type LogLevel,
} from './kafkajs-log';
export { type ConsumerMetrics, consumerMetrics } from './metrics';
export {
  type ConsumedRecord,
  coordinatesOf,
  copyOf,
  headerMap,
  headerText,
  type KafkaRecord,
  type PartitionRef,
  partitionKey,
  type RecordHeader,
  recordBytes,
  withHeader,
  withoutHeader,
} from './records';
export {
  type DrainReport,
  SandboxDrain,
  type SandboxDrainOptions,
  TeardownRefusedError,
  TeardownTimeoutError,
} from './sandbox-drain';
export {
  BrokerError,
  type BrokerErrorReason,
  type ConsumerState,
  type ConsumerStateChange,
  type GroupDescription,
  type MessageSink,
  type MessageSource,
  type TopicAdmin,
  type TopicSpec,
} from './seam';
