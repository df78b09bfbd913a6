import { ConfigError, onShutdown } from '@sandbox-routing/shared';
import { startTelemetry } from '@sandbox-routing/shared/telemetry';
import { loadIngressConfig } from './config';

/** Exit code for invalid configuration (EX_CONFIG from sysexits.h). */
const EX_CONFIG = 78;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadIngressConfig>;
  try {
    config = loadIngressConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(EX_CONFIG);
  }
  // Telemetry first: the kafkajs instrumentation must patch kafkajs before anything loads it,
  // hence require() here instead of a top-level import of ./app.
  const telemetry = startTelemetry(config.telemetry);
  const { createIngress } = require('./app') as typeof import('./app');
  const ingress = await createIngress(config);
  onShutdown(async () => {
    await ingress.stop();
    await telemetry.shutdown();
  });
  // Something the ingress cannot get past (a consumer crash kafkajs will not restart from): stop
  // cleanly and exit non-zero, so Kubernetes restarts the pod; nothing uncommitted is lost.
  ingress.failure.catch(async (error: unknown) => {
    console.error('ingress cannot go on:', error instanceof Error ? error.message : error);
    await ingress.stop().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
    process.exit(1);
  });
  await ingress.start();
}

main().catch((error: unknown) => {
  console.error('ingress failed to start:', error instanceof Error ? error.stack : error);
  process.exit(1);
});
