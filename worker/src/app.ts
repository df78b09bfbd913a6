import { hostname } from 'node:os';
import path from 'node:path';
import { instanceLabel, instanceTaskQueue, type RoutingDecisionEvent } from '@sandbox-routing/core';
import {
  connectWorker,
  createLogger,
  createRegistry,
  instanceIdentity,
  kafkaSecurityOptions,
  type Logger,
  type ReachabilityProbe,
  redactConfig,
  registerRouteTableMetrics,
  registerTrailMetrics,
  routingDecisionCounter,
  startApplicationRoutes,
  startHealthServer,
  startReachabilityProbe,
} from '@sandbox-routing/service-kit';
import { routingWorkerOptions, type TracingTelemetry, tracingWorkerOptions } from '@sandbox-routing/temporal';
import { checkTrailKafkaAccess, serviceTrailEmitter, trailWorkerOptions } from '@sandbox-routing/trail';
import { type NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createOrderActivities } from './activities';
import { type WorkerConfig, workerApplication, workerSchema } from './config';
import { temporalLogger } from './temporal-logger';
import { WORKFLOWS_PATH, withPrebuiltBundle } from './workflow-bundle';

/** How long a stopping worker keeps trying to send its last trail records. */
const TRAIL_CLOSE_TIMEOUT_MS = 3_000;

/** Temporal is checked this often for /readyz; a check not answered within the timeout fails. */
const PROBE_INTERVAL_MS = 1000;
const PROBE_TIMEOUT_MS = 2000;

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
        carrier: event.carrier,
        reason: event.reason,
      },
      'routing decision',
    );
  };
}

/** The worker service: route table, health server, Temporal worker. */
export interface WorkerApp {
  readonly logger: Logger;
  /** The queue this instance polls: the shared queue, or `<shared>@<sandbox>` in a fork. */
  readonly taskQueue: string;
  /** Base URL of /healthz, /readyz, /metrics (answers before `start` finishes). */
  readonly healthUrl: string;
  /**
   * Connects, bundles the workflow code and starts polling. Resolves once polling has begun; does
   * nothing when `stop` was called first (e.g. SIGTERM during start-up).
   */
  start(): Promise<void>;
  /** Drains in-flight tasks (up to the grace time), then closes everything. Safe at any point. */
  stop(): Promise<void>;
  /** Rejects when the worker stops without a `stop` call (a fatal worker error); never resolves. */
  readonly failure: Promise<never>;
}

/**
 * Creates the worker service and starts its health server at once, so `/healthz` answers while the
 * (slow) workflow bundling runs; call `start` next. With `telemetry` (the process's OpenTelemetry
 * SDK), Temporal's OpenTelemetry interceptors trace every workflow and activity.
 */
export async function createWorkerApp(
  config: WorkerConfig,
  telemetry?: TracingTelemetry,
): Promise<WorkerApp> {
  const logger = createLogger(config.telemetry, config.signadot);
  // shutdownSignals: [] because the caller owns SIGTERM: the SDK's own handler would stop the
  // worker but leave the route table, health server and connection open.
  Runtime.install({ logger: temporalLogger(logger), shutdownSignals: [] });

  const identity = instanceIdentity(config.signadot);
  const instance = instanceLabel(identity.sandboxName);
  const sharedQueue = config.temporal.taskQueue;
  const taskQueue = instanceTaskQueue(sharedQueue, identity);
  // One route table (one stream) for every workload of the application: a workflow's work for another
  // workload (the payments service) goes to that workload's owner.
  const application = workerApplication(config);
  const routes = startApplicationRoutes(config.routeserver, application, identity.baseline, logger);
  const routeTable = routes.own;
  const registry = createRegistry({ service: config.telemetry.serviceName, instance });
  registerRouteTableMetrics(registry, { worker: routeTable });
  const onDecision = decisionListener(logger, routingDecisionCounter(registry));
  const workerIdentity = `${instance}@${hostname()}:${process.pid}`;
  // Trail records (where each run and activity ran) for the console and load tests; never blocks work.
  // The trail's brokers and credentials (the TLS files are read here, once).
  const trailKafka = {
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    security: kafkaSecurityOptions(config.kafka.security),
  };
  const trail = serviceTrailEmitter(config.trail, trailKafka, logger.child({ component: 'trail' }));
  if (trail) registerTrailMetrics(registry, trail);

  let connection: NativeConnection | undefined;
  let temporal: ReachabilityProbe | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;
  let fail: (error: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failure.catch(() => undefined); // observed by the caller; never an unhandled rejection

  const health = await startHealthServer(config.http, registry, [
    { name: 'routeTable', ready: () => routes.synced },
    { name: 'worker', ready: () => worker?.getState() === 'RUNNING' },
    // The worker stays RUNNING while Temporal is away (its polls just fail and retry): ask Temporal.
    { name: 'temporal-reachable', ready: () => temporal?.reachable ?? false },
  ]);

  return {
    logger,
    taskQueue,
    healthUrl: health.url,
    failure,
    async start() {
      // The trail connects on its first send and retries for ever: refused credentials or TLS stop here.
      if (config.trail.enabled) {
        if ((await checkTrailKafkaAccess({ ...trailKafka, topic: config.trail.topic })) === 'unreachable')
          logger.warn('no Kafka broker answered yet; trail records wait in the buffer');
      }
      connection = await connectWorker(config.temporal);
      const checked = connection;
      temporal = startReachabilityProbe({
        name: 'temporal',
        check: () =>
          checked.withDeadline(Date.now() + Math.min(config.temporal.callTimeoutMs, PROBE_TIMEOUT_MS), () =>
            checked.healthService.check({}),
          ),
        intervalMs: PROBE_INTERVAL_MS,
        timeoutMs: PROBE_TIMEOUT_MS,
        logger,
      });
      if (stopping) return;
      const options = {
        connection,
        namespace: config.temporal.namespace,
        identity: workerIdentity,
        workflowsPath: WORKFLOWS_PATH,
        activities: createOrderActivities({ instance, variant: config.worker.variant }),
        shutdownGraceTime: config.worker.shutdownGraceMs,
      };
      // Outermost first: tracing, the trail, routing (see tracingWorkerOptions in shared).
      const withTrail = trail
        ? trailWorkerOptions(options, { emitter: trail, instance, worker: workerIdentity })
        : options;
      const routed = routingWorkerOptions(
        telemetry ? tracingWorkerOptions(withTrail, telemetry) : withTrail,
        {
          identity,
          routeTable,
          sharedQueue,
          mismatchPolicy: config.worker.activityMismatchPolicy,
          recordSearchAttributes: config.worker.recordSearchAttributes,
          onDecision,
          application: { declaration: application, routes },
        },
      );
      const bundle = config.worker.workflowBundle;
      // A prebuilt bundle skips webpack at start (seconds of CPU, hundreds of MiB): how forks start fast.
      worker = await Worker.create(
        bundle
          ? withPrebuiltBundle(routed, path.resolve(bundle), {
              trail: trail !== undefined,
              tracing: telemetry !== undefined,
            })
          : routed,
      );
      // SIGTERM arrived while the worker was being created: never start polling.
      if (stopping) return;
      running = worker.run();
      running.then(
        () => {
          if (!stopping) fail(new Error('worker stopped without a shutdown request'));
        },
        (error: unknown) => {
          if (!stopping) fail(error); // after stop(), stop() reports the error itself
        },
      );
      logger.info(
        {
          config: redactConfig(workerSchema, config),
          taskQueue,
          variant: config.worker.variant,
          workflowCode: bundle ? `prebuilt bundle ${bundle}` : 'bundled at start',
        },
        'worker started',
      );
    },
    async stop() {
      stopping = true;
      // shutdown() stops polling and lets in-flight tasks finish for up to shutdownGraceTime.
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      try {
        await running;
      } finally {
        temporal?.stop();
        // After the drain, so the last runs' records go out too (bounded: Kafka may be away).
        await trail?.close(TRAIL_CLOSE_TIMEOUT_MS);
        await routes.stop();
        await connection?.close();
        await health.close();
      }
    },
  };
}
