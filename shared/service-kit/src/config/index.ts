export { type ApplicationConfig, applicationSchema, loadApplication } from './application';
export {
  type ConsumerConfig,
  type ConsumerRetryConfig,
  consumerRetrySchema,
  consumerSchema,
  type ForwardTopicConfig,
  parseTopicConfig,
} from './consumer';
export { type ConfigDocRow, describeConfig } from './docs';
export { formatDuration, MAX_DURATION_MS, parseDurationMs } from './duration';
export { isHostPort } from './formats';
export {
  ConfigError,
  type ConfigProblem,
  EXIT_CONFIG_ERROR,
  isSettingsRefusal,
  type LoadConfigOptions,
  loadConfig,
  loadConfigOrExit,
  loadConfigOrReport,
  redactConfig,
} from './load';
export * from './parts';
export { type RoutedServiceConfig, routedServiceSchema } from './routed-service';
export * from './secured';
export { resultsTopicSchema, type TrailConfig, trailSchema } from './trail';
