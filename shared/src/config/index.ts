export { ConfigError, type ConfigProblem, loadConfig, type LoadConfigOptions, redactConfig } from './load';
export * from './parts';
export { isHostPort } from './formats';
