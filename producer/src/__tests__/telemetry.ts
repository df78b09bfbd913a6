import { after, before } from 'node:test';
import { startTelemetry, type Telemetry } from '@sandbox-routing/service-kit/telemetry';

/**
 * Starts the real OpenTelemetry context manager and propagators for the tests of the calling suite,
 * as the CLI does: `context.with` (the routing key in baggage) needs a context manager.
 */
export function useTelemetry(): void {
  let telemetry: Telemetry | undefined;
  before(() => {
    telemetry = startTelemetry({
      serviceName: 'producer-test',
      logLevel: 'silent',
      tracesExporter: 'none',
      otlpEndpoint: '',
    });
  });
  after(() => telemetry?.shutdown());
}
