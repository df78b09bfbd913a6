import { EXIT_CONFIG_ERROR, isSettingsRefusal, loadConfigOrExit } from '../config/load';
import type { SignadotIdentityConfig, TelemetryConfig } from '../config/parts';
import { serviceTelemetry } from './instrumentation';
import { createLogger, type Logger, logProcessWarnings } from './logger';
import { onShutdown } from './shutdown';
import type { Telemetry } from './telemetry';

/** A Kafka consumer service as its `main` drives it (the ingress, the notifier). */
export interface ConsumerServiceApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Rejects when the service cannot go on; never resolves. */
  readonly failure: Promise<never>;
}

export interface ConsumerServiceMain<C, A extends ConsumerServiceApp> {
  /** The service's name: telemetry's, and the one its log lines and errors say. */
  name: string;
  /** Its `--require` entry, relative to the working directory (`./ingress/dist/instrument.js`). */
  instrumentEntry: string;
  load(): C & { telemetry: TelemetryConfig; signadot: SignadotIdentityConfig; kafka: { brokers: string[] } };
  /**
   * Creates the app; called after telemetry started, so the module that loads kafkajs is required here
   * (`require('./app')`), not imported at the top of `main`.
   */
  create(config: C, logger: Logger): Promise<A>;
}

const errorText = (error: unknown) =>
  error instanceof Error ? (error.stack ?? error.message) : String(error);
const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A BrokerError (@sandbox-routing/kafka, known by name: importing it would load kafkajs before telemetry) of no broker answering. */
function isBrokerUnavailable(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'BrokerError' &&
    (error as Error & { reason?: string }).reason === 'unavailable'
  );
}

/**
 * The `main` of a Kafka consumer service: configuration (exit 78 when invalid), JSON logs, telemetry before
 * kafkajs loads, a clean stop on SIGTERM at any point, and the exits a pod needs: 78 when Kafka refuses the
 * settings (no retry changes that), 1 when it cannot start or go on (Kubernetes restarts it; nothing
 * uncommitted is lost). Kafka unreachable at start exits too, with one JSON line saying for how long it
 * tried: kafkajs has retried already, and the orchestrator backs off.
 */
export function runConsumerService<C, A extends ConsumerServiceApp>(
  service: ConsumerServiceMain<C, A>,
): void {
  const main = async (): Promise<void> => {
    const config = loadConfigOrExit(() => service.load());
    const logger = createLogger(config.telemetry, config.signadot);
    // Node's warnings (a listener leak, a deprecation) as JSON lines like every other line.
    logProcessWarnings(logger);

    let telemetry: Telemetry | undefined;
    let creating: Promise<A> | undefined;
    // From here on SIGTERM stops cleanly, also while the app is still being created or started (its
    // `start` then returns at once); before, nothing runs that a stop would have to finish.
    onShutdown(
      async (signal) => {
        logger.info({ signal }, 'signal received');
        const app = await creating?.catch(() => undefined);
        await app?.stop();
        await telemetry?.shutdown();
      },
      30_000,
      logger,
    );
    // Started by the --require entry; without it, here, before the app (which loads kafkajs) is required.
    telemetry = serviceTelemetry({ serviceName: service.name }, service.instrumentEntry);
    const startedAt = Date.now();
    creating = service.create(config, logger);
    const app = await creating;
    const exit = async (code: number) => {
      await app.stop().catch(() => undefined);
      await telemetry?.shutdown().catch(() => undefined);
      process.exit(code);
    };
    app.failure.catch(async (error: unknown) => {
      logger.error({ error: errorText(error) }, `${service.name} cannot go on`);
      await exit(1);
    });
    try {
      await app.start();
    } catch (error) {
      const fields = {
        brokers: config.kafka.brokers,
        triedMs: Date.now() - startedAt,
        error: errorMessage(error),
      };
      if (isSettingsRefusal(error)) {
        logger.error(fields, 'Kafka refused the connection settings; exiting');
        await exit(EXIT_CONFIG_ERROR);
      } else if (isBrokerUnavailable(error)) {
        logger.error(
          fields,
          'Kafka unreachable at start: no broker answered; exiting (the orchestrator restarts it)',
        );
        await exit(1);
      } else {
        logger.error(fields, `${service.name} failed to start; exiting`);
        await exit(1);
      }
    }
  };
  main().catch((error: unknown) => {
    // The logger may not exist yet (it needs the configuration): plain stderr.
    if (isSettingsRefusal(error)) {
      console.error(`${service.name} failed to start: ${errorMessage(error)}`);
      process.exit(EXIT_CONFIG_ERROR);
    }
    console.error(`${service.name} failed to start:`, errorText(error));
    process.exit(1);
  });
}
