import { instanceLabel, RouteserverClient } from '@sandbox-routing/core';
import { consumerMetrics, DecideOnceConsumer, kafkajsClients } from '@sandbox-routing/kafka';
import {
  consumerReadinessChecks,
  createLogger,
  createRegistry,
  instanceIdentity,
  kafkaSecurityOptions,
  type Logger,
  parseTopicConfig,
  redactConfig,
  registerRouteTableMetrics,
  registerTrailMetrics,
  startHealthServer,
  startReachabilityProbe,
  startRouteTable,
  stopInOrder,
} from '@sandbox-routing/service-kit';
import { serviceTrailEmitter } from '@sandbox-routing/trail';
import { type NotifierConfig, notifierSchema } from './config';
import { type Notify, notifierProcessing } from './notify';

const TRAIL_CLOSE_TIMEOUT_MS = 3_000;

export interface NotifierApp {
  /** Base URL of /healthz, /readyz, /metrics (answering from creation on). */
  healthUrl: string;
  start(): Promise<void>;
  /** Stops consuming (what was done is committed), then closes everything; safe at any point. */
  stop(): Promise<void>;
  /** Rejects when the notifier cannot go on; never resolves. */
  readonly failure: Promise<never>;
}

/**
 * Wires the notifier: the decide-once consumer of `KAFKA_TOPIC` in its own group (`notifier`), deciding
 * by the notifier workload's own rules at the baseline, a fork reading `<topic>.<group>.sandbox.<name>`.
 * Thin on purpose: everything but "send a notification" is the library's.
 */
export async function createNotifier(
  config: NotifierConfig,
  options: { logger?: Logger; notify?: Notify } = {},
): Promise<NotifierApp> {
  const identity = instanceIdentity(config.signadot);
  const instance = instanceLabel(identity.sandboxName);
  const logger = options.logger ?? createLogger(config.telemetry, config.signadot);
  const registry = createRegistry({ service: config.telemetry.serviceName, instance });
  const metrics = consumerMetrics(registry, 'sandbox_routing_notifier');
  let stopping = false;
  let fail: (error: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failure.catch(() => undefined);

  // A fork processes what the baseline forwarded it, by the decision carried: only the baseline decides.
  const routes = identity.sandboxName
    ? undefined
    : startRouteTable(config.routeserver, identity.baseline, logger.child({ table: 'notifier' }));
  if (routes) registerRouteTableMetrics(registry, { notifier: routes });
  const security = kafkaSecurityOptions(config.kafka.security);
  const kafka = kafkajsClients({
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    security,
    logger,
    logLevel: config.telemetry.logLevel,
  });
  const probeTimeoutMs = 2 * config.probeIntervalMs;
  const brokers = startReachabilityProbe({
    name: 'kafka',
    check: () => kafka.probe.ping(probeTimeoutMs),
    intervalMs: config.probeIntervalMs,
    timeoutMs: probeTimeoutMs,
    logger,
  });
  const trail = serviceTrailEmitter(
    config.trail,
    { brokers: config.kafka.brokers, clientId: config.kafka.clientId, security },
    logger.child({ component: 'trail' }),
  );
  if (trail) registerTrailMetrics(registry, trail);
  const routeserver = new RouteserverClient({
    url: config.routeserver.url,
    requestTimeoutMs: config.routeserver.requestTimeoutMs,
  });
  const notify: Notify =
    options.notify ??
    (async (notification) => {
      logger.info({ notification }, 'notification sent');
    });
  const consumer = new DecideOnceConsumer({
    clients: kafka,
    identity,
    topic: config.kafka.topic,
    group: config.kafka.consumerGroup,
    deciding: routes && {
      routes,
      neverSyncedPolicy: config.routeserver.neverSyncedPolicy,
      forksWorkload: (sandbox) => routeserver.forks(sandbox, identity.baseline),
    },
    topicSpec: (topic) => ({
      topic,
      partitions: config.kafka.sandboxTopic.partitions,
      replicationFactor: config.kafka.sandboxTopic.replicationFactor,
      config: parseTopicConfig(config.kafka.sandboxTopic.config),
    }),
    deadLetterTopic: config.kafka.deadLetterTopic,
    ...notifierProcessing({
      workload: identity.baseline.name,
      group: config.kafka.consumerGroup,
      instance,
      maxEventBytes: config.kafka.maxEventBytes,
      notify,
      logger,
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
    { name: 'route-table-synced', ready: () => routes?.synced ?? true },
    ...consumerReadinessChecks(consumer, brokers, () => stopping),
  ]);
  logger.info(
    {
      config: redactConfig(notifierSchema, config),
      groupId: consumer.groupId,
      topic: consumer.topic,
      health: health.url,
    },
    'notifier starting',
  );

  let closed: Promise<void> | undefined;
  const stop = () => {
    closed ??= (async () => {
      stopping = true;
      logger.info('notifier stopping');
      await stopInOrder(logger, [
        ['consumer stop', () => consumer.stop()],
        ['probe stop', () => brokers.stop()],
        ['trail close', () => trail?.close(TRAIL_CLOSE_TIMEOUT_MS)],
        ['Kafka clients close', () => kafka.close()],
        ['route table stop', () => routes?.stop()],
        ['health server close', () => health.close()],
      ]);
      logger.info('notifier stopped');
    })();
    return closed;
  };
  const start = async () => {
    try {
      // Refused credentials or TLS stop the start at once, naming the settings (an outage is waited out).
      if ((await kafka.checkAccess()) === 'unreachable') logger.warn('no Kafka broker answered yet; waiting');
      if (stopping) return;
      await consumer.start();
    } catch (error) {
      if (stopping) return;
      throw error;
    }
    if (!stopping)
      logger.info(
        { groupId: consumer.groupId, topic: consumer.topic, mode: consumer.mode.kind },
        'notifier running',
      );
  };
  return { healthUrl: health.url, start, stop, failure };
}
