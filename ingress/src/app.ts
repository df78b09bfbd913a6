import { instanceLabel, RouteserverClient } from '@sandbox-routing/core';
import { DecideOnceConsumer, kafkajsClients, type TopicSpec } from '@sandbox-routing/kafka';
import {
  consumerReadinessChecks,
  createLogger,
  createRegistry,
  instanceIdentity,
  kafkaSecurityOptions,
  type Logger,
  lazyClientConnection,
  redactConfig,
  registerRouteTableMetrics,
  registerTrailMetrics,
  routingDecisionCounter,
  startHealthServer,
  startReachabilityProbe,
  startRouteTable,
  stopInOrder,
} from '@sandbox-routing/service-kit';
import { RoutingClientInterceptor, tracingClientInterceptors } from '@sandbox-routing/temporal';
import { serviceTrailEmitter } from '@sandbox-routing/trail';
import { Client } from '@temporalio/client';
import { type IngressConfig, ingressSchema, parseTopicConfig } from './config';
import { ingressProcessing } from './handler';
import { ingressMetrics } from './metrics';
import { temporalStarter } from './temporal-starter';

/** How long a stopping ingress keeps trying to send its last trail records. */
const TRAIL_CLOSE_TIMEOUT_MS = 3_000;

/** The ingress service: created with its health server up, then started. */
export interface IngressApp {
  /** Base URL of /healthz, /readyz, /metrics (answering from creation on). */
  healthUrl: string;
  /** Connects to Kafka and starts consuming; resolves once the consumer runs. */
  start(): Promise<void>;
  /**
   * Stops consuming (the record in hand is interrupted and left uncommitted, what was done is
   * committed), then closes everything. Bounded: it never waits for a back-off or a retry. Safe at
   * any point, also during `start`.
   */
  stop(): Promise<void>;
  /** Rejects when the ingress cannot go on (a consumer crash kafkajs will not restart from, a dead-letter topic that refuses writes); never resolves. */
  readonly failure: Promise<never>;
}

/** The settings of a sandbox topic, from the configuration. */
export function sandboxTopicSpec(config: IngressConfig, topic: string): TopicSpec {
  return {
    topic,
    partitions: config.kafka.sandboxTopic.partitions,
    replicationFactor: config.kafka.sandboxTopic.replicationFactor,
    config: parseTopicConfig(config.kafka.sandboxTopic.config),
  };
}

/**
 * Wires the ingress and starts its health server, so `/healthz` answers from the start; `start` then
 * connects to Kafka and consumes.
 *
 * - The baseline (no `SIGNADOT_SANDBOX_NAME`) reads the events topic in group `G` and decides each
 *   event's owner once: a sandbox that forks the ingress gets the record forwarded, byte for byte with
 *   the decision, to its topic `<topic>.<G>.sandbox.<name>`; everything else it starts itself
 *   (door-routed to the owner's worker queue).
 * - A fork reads its sandbox's topic in group `G-<sandbox>`, from the earliest offset, and starts all of
 *   it by the decisions they carry.
 */
export async function createIngress(
  config: IngressConfig,
  options: { logger?: Logger } = {},
): Promise<IngressApp> {
  const identity = instanceIdentity(config.signadot);
  const sandboxName = identity.sandboxName;
  const instance = instanceLabel(sandboxName);
  const logger = options.logger ?? createLogger(config.telemetry, config.signadot);
  const registry = createRegistry({ service: config.telemetry.serviceName, instance });
  const metrics = ingressMetrics(registry);

  let stopping = false;
  let fail: (error: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failure.catch(() => undefined); // observed by the caller; never an unhandled rejection

  // Door routing asks the worker's route table; deciding (baseline only) asks the ingress's own.
  const workerRoutes = startRouteTable(
    config.routeserver,
    { ...identity.baseline, name: config.workerBaseline.name },
    logger.child({ table: 'worker' }),
  );
  const ingressRoutes = sandboxName
    ? undefined
    : startRouteTable(config.routeserver, identity.baseline, logger.child({ table: 'ingress' }));
  registerRouteTableMetrics(
    registry,
    ingressRoutes ? { ingress: ingressRoutes, worker: workerRoutes } : { worker: workerRoutes },
  );

  // Lazy: the ingress starts (and backs off per record) even while Temporal is away.
  const connection = lazyClientConnection(config.temporal);
  const callTimeoutMs = config.temporal.callTimeoutMs;
  const temporal = new Client({
    connection,
    namespace: config.temporal.namespace,
    interceptors: {
      // Tracing first (outermost): its StartWorkflow span carries the routing attributes.
      workflow: [
        ...tracingClientInterceptors(),
        new RoutingClientInterceptor({
          doorRouting: { routeTable: workerRoutes, sharedQueue: config.temporal.taskQueue },
          recordSearchAttributes: config.recordSearchAttributes,
          onDecision: routingDecisionCounter(registry),
        }),
      ],
    },
  });
  const starter = temporalStarter({ workflow: temporal.workflow, connection, callTimeoutMs });

  // The brokers and credentials (the TLS files are read here, once), for the consumer and the trail.
  const kafkaAccess = {
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    security: kafkaSecurityOptions(config.kafka.security),
  };
  const kafka = kafkajsClients({
    ...kafkaAccess,
    logger, // the bridge names the component (kafkajs.<namespace>)
    logLevel: config.telemetry.logLevel,
  });
  const probeTimeoutMs = 2 * config.probeIntervalMs;
  const probes = [
    startReachabilityProbe({
      name: 'kafka',
      check: () => kafka.probe.ping(probeTimeoutMs),
      intervalMs: config.probeIntervalMs,
      timeoutMs: probeTimeoutMs,
      logger,
    }),
    startReachabilityProbe({
      name: 'temporal',
      check: () =>
        connection.withDeadline(Date.now() + Math.min(callTimeoutMs, probeTimeoutMs), () =>
          connection.healthService.check({}),
        ),
      intervalMs: config.probeIntervalMs,
      timeoutMs: probeTimeoutMs,
      logger,
    }),
  ] as const;
  const [brokers, temporalProbe] = probes;

  // What the ingress did with each event, for the console and load tests; never holds an event up.
  const trail = serviceTrailEmitter(config.trail, kafkaAccess, logger.child({ component: 'trail' }));
  if (trail) registerTrailMetrics(registry, trail);
  const routeserver = new RouteserverClient({
    url: config.routeserver.url,
    requestTimeoutMs: config.routeserver.requestTimeoutMs,
  });
  const consumer = new DecideOnceConsumer({
    clients: kafka,
    identity,
    topic: config.kafka.topic,
    group: config.kafka.consumerGroup,
    deciding: ingressRoutes && {
      routes: ingressRoutes,
      // The decision carried with a forward names the worker's owner too: the fork starts the workflow there.
      alsoDecide: [workerRoutes],
      neverSyncedPolicy: config.routeserver.neverSyncedPolicy,
      forksWorkload: (sandbox) => routeserver.forks(sandbox, identity.baseline),
    },
    topicSpec: (name) => sandboxTopicSpec(config, name),
    deadLetterTopic: config.kafka.deadLetterTopic,
    ...ingressProcessing({
      identity,
      starter,
      sharedTaskQueue: config.temporal.taskQueue,
      workerBaseline: workerRoutes.baseline,
      maxEventBytes: config.kafka.maxEventBytes,
      logger,
      metrics,
      trail,
    }),
    logger,
    metrics,
    backoff: { initialMs: config.retry.initialDelayMs, maxMs: config.retry.maxDelayMs },
    maxInFlight: config.kafka.maxInFlight,
    partitionsConcurrently: config.kafka.partitionsConcurrently,
    onFatal: (error) => {
      if (!stopping) fail(error);
    },
  });

  const health = await startHealthServer(config.http, registry, [
    {
      name: 'route-tables-synced',
      ready: () => workerRoutes.synced && (ingressRoutes?.synced ?? true),
    },
    { name: 'temporal-reachable', ready: () => temporalProbe.reachable },
    ...consumerReadinessChecks(consumer, brokers, () => stopping),
  ]);
  logger.info(
    {
      config: redactConfig(ingressSchema, config),
      groupId: consumer.groupId,
      topic: consumer.topic,
      health: health.url,
    },
    'ingress starting',
  );

  let closed: Promise<void> | undefined;
  const stop = () => {
    closed ??= (async () => {
      stopping = true;
      logger.info('ingress stopping');
      await stopInOrder(logger, [
        ['consumer stop', () => consumer.stop()],
        [
          'probes stop',
          () => {
            for (const probe of probes) probe.stop();
          },
        ],
        // After the last decisions, bounded (Kafka may be away).
        ['trail close', () => trail?.close(TRAIL_CLOSE_TIMEOUT_MS)],
        ['Kafka clients close', () => kafka.close()],
        ['route tables stop', () => Promise.all([ingressRoutes?.stop(), workerRoutes.stop()])],
        // Starts given up on end by their deadline; their retries must not meet a closed channel.
        ['Temporal starts end', () => starter.settled(callTimeoutMs)],
        ['Temporal connection close', () => connection.close()],
        ['health server close', () => health.close()],
      ]);
      logger.info('ingress stopped');
    })();
    return closed;
  };

  const start = async () => {
    if (stopping) return; // a SIGTERM came first
    try {
      // Refused credentials or TLS stop the start at once, naming the settings (an outage is waited out).
      if ((await kafka.checkAccess()) === 'unreachable') logger.warn('no Kafka broker answered yet; waiting');
      if (stopping) return;
      await consumer.start();
    } catch (error) {
      // `stop` closed the Kafka clients under a start still connecting: a stop, not a failure to start.
      if (stopping) return;
      throw error;
    }
    logger.info(
      { groupId: consumer.groupId, topic: consumer.topic, mode: consumer.mode.kind },
      'ingress running',
    );
  };
  return { healthUrl: health.url, start, stop, failure };
}
