/**
 * The worker process: `node worker/dist/main.js`. A sandbox-aware Temporal worker for the sample
 * order domain. The baseline polls the shared task queue; a fork (`SIGNADOT_SANDBOX_NAME` set) polls
 * its sandbox's queue. Configuration comes from the environment (see the README table).
 *
 * Exit codes: 0 after a clean shutdown, 1 on a failure, 78 (EX_CONFIG) on invalid configuration.
 */
import { hostname } from 'node:os';
import {
  ConfigError,
  connectWorker,
  createLogger,
  createRegistry,
  createRoutingWorker,
  instanceIdentity,
  instanceTaskQueue,
  type Logger,
  onShutdown,
  type RoutingDecisionEvent,
  redactConfig,
  registerRouteTableMetrics,
  routingDecisionCounter,
  startHealthServer,
  startRouteTable,
} from '@sandbox-routing/shared';
import { startTelemetry } from '@sandbox-routing/shared/telemetry';
import { type NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createOrderActivities, instanceLabel } from './activities';
import { loadWorkerConfig, SHUTDOWN_CLEANUP_MARGIN_MS, type WorkerConfig, workerSchema } from './config';
import { temporalLogger } from './temporal-logger';

/** sysexits.h EX_CONFIG: lets an orchestrator tell "fix the settings" from a crash. */
const EXIT_CONFIG_ERROR = 78;

function loadConfigOrExit(): WorkerConfig {
  try {
    return loadWorkerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(EXIT_CONFIG_ERROR);
    }
    throw error;
  }
}

/** Logs every routing decision of the interceptors and counts it in `/metrics`. */
function decisionListener(logger: Logger, count: (event: RoutingDecisionEvent) => void) {
  return (event: RoutingDecisionEvent) => {
    count(event);
    logger.info(
      {
        component: event.component,
        action: event.action,
        routingKey: event.routingKey,
        owner: event.owner,
        taskQueue: event.taskQueue,
        workflowId: event.workflowId,
        activityType: event.activityType,
      },
      'routing decision',
    );
  };
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // First, so that the OpenTelemetry context and propagators exist before any work starts.
  const telemetry = startTelemetry(config.telemetry);
  const logger = createLogger(config.telemetry, config.signadot);
  // shutdownSignals: [] because onShutdown below owns SIGTERM: the SDK's own handler would stop the
  // worker but leave the route table, health server and connection open.
  Runtime.install({ logger: temporalLogger(logger), shutdownSignals: [] });

  const identity = instanceIdentity(config.signadot);
  const instance = instanceLabel(identity.sandboxName);
  const sharedQueue = config.temporal.taskQueue;
  const taskQueue = instanceTaskQueue(sharedQueue, identity);
  const routeTable = startRouteTable(config.routeserver, identity.baseline, logger);
  const registry = createRegistry({ service: config.telemetry.serviceName, instance });
  registerRouteTableMetrics(registry, { worker: routeTable });
  const onDecision = decisionListener(logger, routingDecisionCounter(registry));

  let connection: NativeConnection | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;

  const health = await startHealthServer(config.http, registry, [
    { name: 'routeTable', ready: () => routeTable.synced },
    { name: 'worker', ready: () => worker?.getState() === 'RUNNING' },
  ]);

  /** Drains the worker, then closes everything else; safe to call at any point of start-up. */
  const stop = async (): Promise<void> => {
    stopping = true;
    // shutdown() stops polling and lets in-flight tasks finish for up to shutdownGraceTime.
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    try {
      await running;
    } finally {
      await routeTable.stop();
      await connection?.close();
      await health.close();
      await telemetry.shutdown();
    }
  };

  // Registered before the (slow) workflow bundling, so a SIGTERM during start-up also exits cleanly.
  onShutdown(async (signal) => {
    logger.info({ signal }, 'shutting down: draining in-flight tasks');
    await stop();
    logger.info('shutdown complete');
  }, config.worker.shutdownGraceMs + SHUTDOWN_CLEANUP_MARGIN_MS);

  try {
    connection = await connectWorker(config.temporal);
    worker = await createRoutingWorker(
      {
        connection,
        namespace: config.temporal.namespace,
        identity: `${instance}@${hostname()}:${process.pid}`,
        workflowsPath: require.resolve('./workflows'),
        activities: createOrderActivities({ instance, variant: config.worker.variant }),
        shutdownGraceTime: config.worker.shutdownGraceMs,
      },
      {
        identity,
        routeTable,
        sharedQueue,
        mismatchPolicy: config.worker.activityMismatchPolicy,
        onDecision,
      },
    );
  } catch (error) {
    if (stopping) return; // SIGTERM arrived during start-up; onShutdown finishes the exit.
    logger.fatal({ err: error }, 'worker failed to start');
    await stop().catch(() => undefined);
    process.exit(1);
  }
  if (stopping) return; // SIGTERM arrived while the worker was being created: never start polling.
  running = worker.run();
  logger.info(
    { config: redactConfig(workerSchema, config), taskQueue, variant: config.worker.variant },
    'worker started',
  );
  running.then(
    async () => {
      if (stopping) return;
      logger.fatal('worker stopped without a shutdown request');
      await stop().catch(() => undefined);
      process.exit(1);
    },
    async (error: unknown) => {
      if (stopping) return; // stop() awaits `running` and reports the error itself.
      logger.fatal({ err: error }, 'worker failed');
      await stop().catch(() => undefined);
      process.exit(1);
    },
  );
}

main().catch((error: unknown) => {
  console.error('worker failed to start', error);
  process.exit(1);
});
