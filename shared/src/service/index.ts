export { type BackoffPolicy, backoffDelay } from './backoff';
export { type ConsumerRestarts, consumerRestarts, isOutageCrash } from './consumer-restarts';
export { type HealthServer, type ReadinessCheck, startHealthServer } from './health-server';
export {
  classifyKafkajsError,
  type FieldLogger,
  isKafkajsError,
  KAFKAJS_LOG_LEVEL,
  type KafkaErrorReason,
  type KafkajsLogEntry,
  kafkajsLogCreator,
  kafkajsLogLevel,
} from './kafkajs';
export { createLogger, type Logger, type LoggerOptions, workContextFields } from './logger';
export {
  createRegistry,
  mirroredCounter,
  registerRouteTableMetrics,
  routingDecisionCounter,
} from './metrics';
export {
  type ReachabilityProbe,
  type ReachabilityProbeOptions,
  startReachabilityProbe,
} from './probe';
export { instanceIdentity, startRouteTable } from './route-table';
export { onShutdown } from './shutdown';
export { connectClient, connectWorker, lazyClientConnection } from './temporal-connection';
