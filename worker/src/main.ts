/**
 * The worker process: `node --require ./worker/dist/instrument.js worker/dist/main.js`. A sandbox-aware Temporal worker for the sample
 * order domain. The baseline polls the shared task queue; a fork (`SIGNADOT_SANDBOX_NAME` set) polls
 * its sandbox's queue. Configuration comes from the environment (see docs/configuration.md).
 *
 * Exit codes: 0 after a clean shutdown, 1 on a failure, 78 (EX_CONFIG) on invalid configuration or when
 * Kafka or Temporal refuses the credentials or TLS settings.
 */
import {
  EXIT_CONFIG_ERROR,
  isSettingsRefusal,
  loadConfigOrExit,
  onShutdown,
} from '@sandbox-routing/service-kit';
import { serviceTelemetry } from '@sandbox-routing/service-kit/instrumentation';
import { loadWorkerConfig, SHUTDOWN_CLEANUP_MARGIN_MS } from './config';

async function main(): Promise<void> {
  const config = loadConfigOrExit(loadWorkerConfig);
  // Started by the --require entry; only a start without it starts telemetry here (before ./app).
  const telemetry = serviceTelemetry({ serviceName: 'worker' }, './worker/dist/instrument.js');
  const { createWorkerApp } = require('./app') as typeof import('./app');
  const app = await createWorkerApp(config, telemetry);
  const { logger } = app;
  let stopping = false;

  const fatal = async (error: unknown, message: string) => {
    logger.fatal({ err: error }, message);
    await app.stop().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
    // Refused credentials or TLS: fix the settings the message names (like invalid configuration).
    process.exit(isSettingsRefusal(error) ? EXIT_CONFIG_ERROR : 1);
  };

  // Registered before the (slow) workflow bundling, so a SIGTERM during start-up also exits cleanly.
  onShutdown(async (signal) => {
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight tasks');
    await app.stop();
    await telemetry.shutdown();
    logger.info('shutdown complete');
  }, config.worker.shutdownGraceMs + SHUTDOWN_CLEANUP_MARGIN_MS);

  try {
    await app.start();
  } catch (error) {
    if (stopping) return; // SIGTERM arrived during start-up; onShutdown finishes the exit.
    return fatal(error, 'worker failed to start');
  }
  app.failure.catch((error: unknown) => fatal(error, 'worker failed'));
}

main().catch((error: unknown) => {
  console.error('worker failed to start', error);
  process.exit(1);
});
