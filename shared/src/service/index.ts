export { type HealthServer, type ReadinessCheck, startHealthServer } from './health-server';
export { createLogger, type Logger } from './logger';
export { createRegistry, registerRouteTableMetrics, routingDecisionCounter } from './metrics';
export { instanceIdentity, startRouteTable } from './route-table';
export { onShutdown } from './shutdown';
export { connectClient, connectWorker, lazyClientConnection } from './temporal-connection';
