export { type ConfigDocRow, describeConfig } from './docs';
export { isHostPort } from './formats';
export { ConfigError, type ConfigProblem, type LoadConfigOptions, loadConfig, redactConfig } from './load';
export * from './parts';
export { type RoutedServiceConfig, routedServiceSchema } from './routed-service';
