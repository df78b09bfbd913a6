import {
  createLogger,
  createRegistry,
  instanceIdentity,
  instanceLabel,
  type Logger,
  lazyClientConnection,
  RoutingClientInterceptor,
  redactConfig,
  registerRouteTableMetrics,
  routingDecisionCounter,
  startHealthServer,
  startRouteTable,
} from '@sandbox-routing/shared';
import { Client } from '@temporalio/client';
import { Kafka, type LogEntry, logLevel, Partitioners } from 'kafkajs';
import { type IngressConfig, ingressSchema } from './config';
import { DeadLetterPublisher } from './dead-letter';
import { EventHandler } from './handler';
import { ingressMetrics } from './metrics';

export interface RunningIngress {
  /** Base URL of /healthz, /readyz, /metrics. */
  healthUrl: string;
  /** Stops consuming (finishing the message in hand and committing), then closes everything. */
  stop(): Promise<void>;
}

/** kafkajs log lines into the service's structured log. */
function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...fields } = log;
      const method = level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'debug';
      logger[method]({ component: 'kafkajs', ...fields }, message);
    };
}

/** The consumer group of an instance: `G` for the baseline, `G-<sandbox>` for a fork. */
export function consumerGroupOf(group: string, sandboxName: string): string {
  return sandboxName ? `${group}-${sandboxName}` : group;
}

/** Wires and starts the ingress: route tables, Temporal client, Kafka consumer, health server. */
export async function startIngress(config: IngressConfig): Promise<RunningIngress> {
  const identity = instanceIdentity(config.signadot);
  const instance = instanceLabel(identity.sandboxName);
  const logger = createLogger(config.telemetry, config.signadot);
  const groupId = consumerGroupOf(config.kafka.consumerGroup, identity.sandboxName);
  logger.info({ config: redactConfig(ingressSchema, config), groupId }, 'ingress starting');

  const registry = createRegistry({ service: config.telemetry.serviceName, instance });
  const metrics = ingressMetrics(registry);
  // Selective consumption asks about the ingress's own workload; door routing about the worker's.
  const ingressRoutes = startRouteTable(
    config.routeserver,
    identity.baseline,
    logger.child({ table: 'ingress' }),
  );
  const workerRoutes = startRouteTable(
    config.routeserver,
    { ...identity.baseline, name: config.workerBaseline.name },
    logger.child({ table: 'worker' }),
  );
  registerRouteTableMetrics(registry, { ingress: ingressRoutes, worker: workerRoutes });
  const countDecision = routingDecisionCounter(registry);

  // Lazy: the ingress starts (and backs off per message) even while Temporal is away.
  const connection = lazyClientConnection(config.temporal);
  const temporal = new Client({
    connection,
    namespace: config.temporal.namespace,
    interceptors: {
      workflow: [
        new RoutingClientInterceptor({
          doorRouting: { routeTable: workerRoutes, sharedQueue: config.temporal.taskQueue },
          recordSearchAttributes: config.recordSearchAttributes,
          onDecision: countDecision,
        }),
      ],
    },
  });

  const kafka = new Kafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger),
  });
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: false,
    allowAutoTopicCreation: false,
  });
  // A 1 s fetch long-poll (default 5 s) bounds how long shutdown waits for the fetch in flight.
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 1000 });
  let joined = false;
  let stopping = false;
  const backingOff = new Set<string>();
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger.error({ error: payload.error.message, restart: payload.restart }, 'consumer crashed');
  });

  const handler = new EventHandler({
    identity,
    ingressRoutes,
    neverSyncedPolicy: config.routeserver.neverSyncedPolicy,
    temporal,
    sharedTaskQueue: config.temporal.taskQueue,
    deadLetters: new DeadLetterPublisher(producer, config.kafka.deadLetterTopic),
    maxEventBytes: config.kafka.maxEventBytes,
    logger,
    metrics,
    isStopping: () => stopping,
    onBackoff: (operation, active) => {
      metrics.backingOff.set({ operation }, active ? 1 : 0);
      if (active) backingOff.add(operation);
      else backingOff.delete(operation);
    },
  });

  await producer.connect();
  await consumer.connect();
  const startFrom =
    config.kafka.startFrom === 'default'
      ? identity.sandboxName
        ? 'latest'
        : 'earliest'
      : config.kafka.startFrom;
  await consumer.subscribe({ topic: config.kafka.topic, fromBeginning: startFrom === 'earliest' });
  await consumer.run({ eachMessage: (payload) => handler.handle(payload) });

  const health = await startHealthServer(config.http, registry, [
    { name: 'route-tables-synced', ready: () => ingressRoutes.synced && workerRoutes.synced },
    { name: 'consumer-joined', ready: () => joined },
    { name: 'not-backing-off', ready: () => backingOff.size === 0 },
    { name: 'not-stopping', ready: () => !stopping },
  ]);
  logger.info({ groupId, topic: config.kafka.topic, health: health.url, startFrom }, 'ingress running');

  return {
    healthUrl: health.url,
    async stop() {
      stopping = true;
      logger.info('ingress stopping');
      // Waits for the message in hand, commits what was processed, leaves the group.
      await consumer.disconnect();
      await producer.disconnect();
      await Promise.all([ingressRoutes.stop(), workerRoutes.stop()]);
      await connection.close();
      await health.close();
      logger.info('ingress stopped');
    },
  };
}
