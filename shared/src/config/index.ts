export { type ConfigDocRow, describeConfig } from './docs';
export { isHostPort } from './formats';
export {
  ConfigError,
  type ConfigProblem,
  EXIT_CONFIG_ERROR,
  type LoadConfigOptions,
  loadConfig,
  loadConfigOrExit,
  loadConfigOrReport,
  redactConfig,
} from './load';
export * from './parts';
export { type RoutedServiceConfig, routedServiceSchema } from './routed-service';
