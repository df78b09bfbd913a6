/**
 * @packageDocumentation
 * The service kit: what a routed service is made of, beside the routing itself. Configuration parts
 * (convict schemas, validated strictly, secrets redacted), JSON logs that carry the routing key and
 * owner, Prometheus metrics, health and readiness, reachability probes, OpenTelemetry start-up
 * (`@sandbox-routing/service-kit/instrumentation` from a `--require` entry), shutdown on signals, and
 * command-line conventions.
 */
export * from './config';
export { CLI_EXIT, type CliProgram, COMMAND_NAMES, optionParser, runCli } from './service/cli';
export { type HealthServer, type ReadinessCheck, startHealthServer } from './service/health-server';
export {
  type ConsumerReadinessSource,
  consumerReadinessChecks,
  type StopStep,
  stopInOrder,
} from './service/lifecycle';
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  logProcessWarnings,
  workContextFields,
} from './service/logger';
export {
  createRegistry,
  mirroredCounter,
  registerRouteTableMetrics,
  routingDecisionCounter,
} from './service/metrics';
export {
  type ReachabilityProbe,
  type ReachabilityProbeOptions,
  startReachabilityProbe,
} from './service/probe';
export { instanceIdentity, startApplicationRoutes, startRouteTable } from './service/route-table';
export { onShutdown } from './service/shutdown';
export {
  connectClient,
  connectWorker,
  lazyClientConnection,
  TemporalAccessError,
  temporalAccessProblem,
} from './service/temporal-connection';
export { registerTrailMetrics, type TrailStatsSource } from './service/trail-metrics';
