import { RouteserverClient } from '@sandbox-routing/core';
import {
  createLogger,
  EXIT_CONFIG_ERROR,
  kafkaSecurityOptions,
  lazyClientConnection,
  loadConfigOrReport,
} from '@sandbox-routing/service-kit';
import { serviceTelemetry } from '@sandbox-routing/service-kit/instrumentation';
import { RoutingClientInterceptor, tracingClientInterceptors } from '@sandbox-routing/temporal';
import { subscribeTrail, type TrailSubscription } from '@sandbox-routing/trail';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { PRODUCER_INSTRUMENT_ENTRY } from '../instrument-entry';
import { connectSender, type EventSender } from '../publish';
import { type ConsoleAccess, consoleAccessFrom } from './access';
import { type ConsoleConfig, loadConsoleConfig } from './config';
import { OwnerDirectory } from './owners';
import { createDispatcher } from './sender';
import { buildConsoleServer } from './server';
import { TrailHub } from './trail-hub';

export { type ConsoleConfig, consoleSchema, loadConsoleConfig } from './config';

/** A running console. */
export interface RunningConsole {
  url: string;
  close(): Promise<void>;
}

/** Link to a workflow (its latest run when known) in the Temporal Web UI. */
export function temporalUiLink(base: string, namespace: string, workflowId: string, runId?: string): string {
  const root = `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${root}/${encodeURIComponent(runId)}/history` : root;
}

/**
 * Starts the console: the Kafka producer and Temporal client it sends with, the owner list from the
 * routeserver, the trail reader on the results topic, and the HTTP server. Call `startTelemetry`
 * first (the kafkajs instrumentation writes the baggage header of what it publishes).
 */
export async function startConsole(
  config: ConsoleConfig,
  access: ConsoleAccess = consoleAccessFrom(config.console),
): Promise<RunningConsole> {
  const logger = createLogger(config.telemetry);
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const closeOne of closers.reverse()) await closeOne().catch(() => undefined);
  };
  try {
    const sender: EventSender = await connectSender({
      kafka: config.kafka,
      topic: config.kafka.topic,
      log: logger,
      logLevel: config.telemetry.logLevel,
    });
    closers.push(() => sender.disconnect());
    const connection = lazyClientConnection(config.temporal);
    closers.push(() => connection.close());
    const temporal = new Client({
      connection,
      namespace: config.temporal.namespace,
      // Writes the sd-routing-key header; no door routing, so starts land on the shared queue.
      // Tracing first (outermost): its StartWorkflow span carries the routing attributes.
      interceptors: { workflow: [...tracingClientInterceptors(), new RoutingClientInterceptor()] },
    });
    const { baselineKind: kind, baselineNamespace: namespace } = config.signadot;
    const owners = new OwnerDirectory({
      rules: new RouteserverClient(config.routeserver),
      routeserverUrl: config.routeserver.url,
      requestTimeoutMs: config.routeserver.requestTimeoutMs,
      refreshIntervalMs: config.routeserver.refreshIntervalMs,
      workerBaseline: { kind, namespace, name: config.console.workerBaselineName },
      ingressBaseline: { kind, namespace, name: config.console.ingressBaselineName },
      onError: (message) =>
        logger.warn({ err: message }, 'routeserver refresh failed; keeping the last owner list'),
    });
    await owners.start();
    closers.push(async () => owners.stop());
    const hub = new TrailHub({
      expectedFor: (key) => owners.expectedFor(key),
      temporalUrl: (workflowId, runId) =>
        temporalUiLink(config.console.temporalUiUrl, config.temporal.namespace, workflowId, runId),
      ...(config.console.traceUrl
        ? { traceUrl: (traceId: string) => `${config.console.traceUrl.replace(/\/+$/, '')}/trace/${traceId}` }
        : {}),
    });
    let trailReady = false;
    const trail: TrailSubscription = await subscribeTrail({
      brokers: config.kafka.brokers,
      clientId: config.kafka.clientId,
      security: kafkaSecurityOptions(config.kafka.security),
      topic: config.results.topic,
      // Recent history, so that what was sent before the page opened (the demo's events) shows.
      from: { lastRecords: config.console.historyRecords },
      onRecord: (record) => hub.onRecord(record),
      onInvalid: (reason) => logger.warn({ reason }, 'skipped a message of the results topic'),
      logger,
    });
    trailReady = true;
    closers.push(() => trail.stop());
    const app: FastifyInstance = await buildConsoleServer({
      owners,
      hub,
      dispatcher: createDispatcher({
        sender,
        topic: config.kafka.topic,
        temporal,
        sharedQueue: config.temporal.taskQueue,
        workflowType: config.console.workflowType,
      }),
      ready: () => trailReady,
      info: {
        temporalUiUrl: config.console.temporalUiUrl,
        namespace: config.temporal.namespace,
        sharedQueue: config.temporal.taskQueue,
        resultsTopic: config.results.topic,
      },
      host: config.console.host,
      access,
      logger,
    });
    closers.push(() => app.close());
    const address = await app.listen({ host: config.console.host, port: config.console.port });
    const url = address.replace('://[::1]', '://localhost');
    logger.info(
      {
        url,
        resultsTopic: config.results.topic,
        routeserver: config.routeserver.url,
        tokenRequired: access.token !== null,
        allowedHosts: access.allowedHosts,
      },
      'console listening',
    );
    return { url, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Flags of `producer console` (they override CONSOLE_HOST / CONSOLE_PORT). */
export interface ConsoleFlags {
  host?: string;
  port?: number;
}

/** `producer console`: runs until SIGINT/SIGTERM; resolves with the exit code (78: bad configuration). */
export async function runConsoleCommand(
  flags: ConsoleFlags,
  io: { printError(message: string): void; printLine(message: string): void },
): Promise<number> {
  const config = loadConfigOrReport(loadConsoleConfig, (message) => io.printError(message));
  if (!config) return EXIT_CONFIG_ERROR;
  if (flags.host !== undefined) config.console.host = flags.host;
  if (flags.port !== undefined) config.console.port = flags.port;
  // After the flags: --host decides whether a token is required.
  const access = loadConfigOrReport(
    () => consoleAccessFrom(config.console),
    (message) => io.printError(message),
  );
  if (!access) return EXIT_CONFIG_ERROR;
  // Started by the --require entry; without it, here, before kafkajs is loaded.
  const telemetry = serviceTelemetry({ serviceName: 'producer' }, PRODUCER_INSTRUMENT_ENTRY);
  let running: RunningConsole;
  try {
    running = await startConsole(config, access);
  } catch (error) {
    io.printError(`console failed to start: ${(error as Error).message}`);
    await telemetry.shutdown().catch(() => undefined);
    return 1;
  }
  io.printLine(`console: ${running.url}`);
  // A console stops only when told to: SIGINT (Ctrl-C) or SIGTERM (a pod stopping) is a clean exit.
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  await telemetry.shutdown().catch(() => undefined);
  return 0;
}
