import {
  createLogger,
  createRegistry,
  decideOwnership,
  instanceIdentity,
  instanceLabel,
  kafkaTrailTransport,
  lazyClientConnection,
  RouteserverClient,
  RoutingClientInterceptor,
  redactConfig,
  registerRouteTableMetrics,
  registerTrailMetrics,
  routingDecisionCounter,
  startHealthServer,
  startReachabilityProbe,
  startRouteTable,
  TrailEmitter,
  tracingClientInterceptors,
} from '@sandbox-routing/shared';
import { Client } from '@temporalio/client';
import { type IngressConfig, ingressSchema, parseTopicConfig } from './config';
import { ConsumerLoop } from './consumer-loop';
import { DeadLetterPublisher } from './dead-letter';
import { isControlRecord } from './fence';
import { EventHandler, type HandlerMode, type WorkflowStarter } from './handler';
import { kafkajsClients } from './kafka/kafkajs';
import { partitionKey } from './kafka/records';
import type { TopicSpec } from './kafka/seam';
import { ingressMetrics } from './metrics';
import { consumerGroupOf, SandboxForwarder, sandboxTopicOf } from './sandbox-topics';

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

/** Rejects with an `AbortError` when `signal` aborts, without waiting for `promise`. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Wires the ingress and starts its health server, so `/healthz` answers from the start; `start` then
 * connects to Kafka and consumes.
 *
 * - The baseline (no `SIGNADOT_SANDBOX_NAME`) reads the events topic in group `G` and decides each
 *   event's owner once: a sandbox that forks the ingress gets the record forwarded, byte for byte, to
 *   its topic `<topic>.sandbox.<name>`; everything else it starts itself (door-routed to the owner's
 *   worker queue).
 * - A fork reads its sandbox's topic in group `G-<sandbox>`, from the earliest offset, and starts all of it.
 */
export async function createIngress(config: IngressConfig): Promise<IngressApp> {
  const identity = instanceIdentity(config.signadot);
  const sandboxName = identity.sandboxName;
  const instance = instanceLabel(sandboxName);
  const logger = createLogger(config.telemetry, config.signadot);
  const registry = createRegistry({ service: config.telemetry.serviceName, instance });
  const metrics = ingressMetrics(registry);
  const groupId = consumerGroupOf(config.kafka.consumerGroup, sandboxName);
  const topic = sandboxName ? sandboxTopicOf(config.kafka.topic, sandboxName) : config.kafka.topic;

  let stopping = false;
  let fail: (error: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failure.catch(() => undefined); // observed by the caller; never an unhandled rejection
  const backingOff = new Map<string, string>();
  const countBackoffs = () => {
    metrics.backingOff.reset();
    for (const operation of backingOff.values()) metrics.backingOff.inc({ operation });
  };

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
  const starter: WorkflowStarter = {
    async start(workflowType, options, signal) {
      const call = connection.withDeadline(Date.now() + callTimeoutMs, () =>
        temporal.workflow.start(workflowType, options),
      );
      return (await abortable(call, signal)).firstExecutionRunId;
    },
  };

  const kafka = kafkajsClients({
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    logger: logger.child({ component: 'kafkajs' }),
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

  const source = kafka.source({
    groupId,
    topic,
    fromBeginning: true,
    partitionsConcurrently: config.kafka.partitionsConcurrently,
  });
  source.onStateChange(({ state, error, restarting }) => {
    if (state !== 'crashed') return;
    logger.error({ error: error?.message, restarting }, 'consumer crashed');
    if (!restarting) fail(new Error(`the Kafka consumer crashed and will not restart: ${error?.message}`));
  });

  const health = await startHealthServer(config.http, registry, [
    {
      name: 'route-tables-synced',
      ready: () => workerRoutes.synced && (ingressRoutes?.synced ?? true),
    },
    { name: 'consumer-member', ready: () => source.state === 'member' },
    { name: 'kafka-reachable', ready: () => brokers.reachable },
    { name: 'temporal-reachable', ready: () => temporalProbe.reachable },
    { name: 'not-backing-off', ready: () => backingOff.size === 0 },
    { name: 'not-stopping', ready: () => !stopping },
  ]);
  logger.info(
    { config: redactConfig(ingressSchema, config), groupId, topic, health: health.url },
    'ingress starting',
  );

  const deadLetters = new DeadLetterPublisher(kafka.sink, config.kafka.deadLetterTopic);
  let mode: HandlerMode = { kind: 'process-all' };
  if (ingressRoutes) {
    const routeserver = new RouteserverClient({
      url: config.routeserver.url,
      requestTimeoutMs: config.routeserver.requestTimeoutMs,
    });
    const forwarder = new SandboxForwarder({
      sink: kafka.sink,
      admin: kafka.admin,
      eventsTopic: config.kafka.topic,
      topicSpec: (name) => sandboxTopicSpec(config, name),
      forksIngress: async (sandbox) =>
        (
          await routeserver.getRoutingRules({
            baselineKind: identity.baseline.kind,
            baselineNamespace: identity.baseline.namespace,
            baselineName: identity.baseline.name,
            destinationSandboxName: sandbox,
          })
        ).length > 0,
      logger,
    });
    mode = {
      kind: 'decide',
      decideOwner: (key) =>
        decideOwnership(ingressRoutes, identity, key, config.routeserver.neverSyncedPolicy),
      forwarder,
    };
  }
  // What the ingress did with each event, for the console and load tests; never holds an event up.
  const trail = config.trail.enabled
    ? new TrailEmitter({
        transport: kafkaTrailTransport({
          brokers: config.kafka.brokers,
          clientId: config.kafka.clientId,
          topic: config.trail.topic,
        }),
        capacity: config.trail.bufferSize,
        logger: logger.child({ component: 'trail' }),
      })
    : undefined;
  if (trail) registerTrailMetrics(registry, trail);
  const handler = new EventHandler({
    identity,
    mode,
    starter,
    sharedTaskQueue: config.temporal.taskQueue,
    deadLetters,
    maxEventBytes: config.kafka.maxEventBytes,
    logger,
    metrics,
    trail,
  });
  const loop = new ConsumerLoop({
    source,
    handle: (record, signal) => handler.handle(record, signal),
    backoff: { initialMs: config.retry.initialDelayMs, maxMs: config.retry.maxDelayMs },
    logger,
    onFatal: (error) => fail(error),
    maxInFlight: config.kafka.maxInFlight,
    // A teardown's fence marker must come after every forward before it in its partition.
    isBarrier: isControlRecord,
    onBackoff: (partition, operation) => {
      if (operation) backingOff.set(partitionKey(partition), operation);
      else backingOff.delete(partitionKey(partition));
      countBackoffs();
    },
  });

  let closed: Promise<void> | undefined;
  const stop = () => {
    closed ??= (async () => {
      stopping = true;
      logger.info('ingress stopping');
      await loop
        .stop()
        .catch((error: Error) => logger.warn({ error: error.message }, 'consumer stop failed'));
      for (const probe of probes) probe.stop();
      // After the last decisions, bounded (Kafka may be away).
      await trail?.close(TRAIL_CLOSE_TIMEOUT_MS);
      await kafka.close();
      await Promise.all([ingressRoutes?.stop(), workerRoutes.stop()]);
      await connection.close().catch(() => undefined);
      await health.close();
      logger.info('ingress stopped');
    })();
    return closed;
  };

  const start = async () => {
    // A fork's topic may not exist yet (nothing forwarded so far); it reads it from the start.
    if (sandboxName) await kafka.admin.ensureTopic(sandboxTopicSpec(config, topic));
    if (stopping) return;
    await loop.start();
    logger.info({ groupId, topic, mode: mode.kind }, 'ingress running');
  };
  return { healthUrl: health.url, start, stop, failure };
}
