import { loadConfigOrExit, onShutdown } from '@sandbox-routing/shared';
import { serviceTelemetry } from '@sandbox-routing/shared/instrumentation';
import { loadIngressConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfigOrExit(loadIngressConfig);
  // Started by the --require entry; without it, here, before ./app (which loads kafkajs) is required.
  const telemetry = serviceTelemetry({ serviceName: 'ingress' }, './ingress/dist/instrument.js');
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
