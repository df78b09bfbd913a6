/**
 * OpenTelemetry for a service process, started by a `--require` entry before the service's own code:
 * ```sh
 * node --require ./worker/dist/instrument.js worker/dist/main.js
 * ```
 * where `instrument.ts` is one line, `instrument({ serviceName: 'worker' })`. Starting from the
 * command line, not from an import at the top of `main`, is what makes it reliable: the kafkajs
 * instrumentation patches `kafkajs` when it is first required, and no import order can be relied
 * on to come first once a module graph grows.
 *
 * This module imports only configuration and the OpenTelemetry SDK (never `kafkajs`, never the
 * shared index), so requiring it patches before anything else loads.
 */

import { instanceLabel } from '@sandbox-routing/core';
import { loadConfig, loadConfigOrExit } from '../config/load';
import {
  type SignadotIdentityConfig,
  signadotIdentitySchema,
  type TelemetryConfig,
  telemetrySchema,
} from '../config/parts';
import { startTelemetry, type Telemetry } from './telemetry';

/** One telemetry per process, found by every copy of this module (a global, keyed by a symbol). */
const INSTALLED = Symbol.for('sandbox-routing.telemetry');
type Holder = { [INSTALLED]?: Telemetry };

/** The telemetry the process's `--require` entry started, if any. */
export function installedTelemetry(): Telemetry | undefined {
  return (globalThis as Holder)[INSTALLED];
}

/** Settings `instrument` reads: the service's telemetry section and its Signadot identity. */
interface InstrumentConfig {
  telemetry: TelemetryConfig;
  signadot: SignadotIdentityConfig;
}

/**
 * Starts OpenTelemetry for this process from the service's telemetry settings (`OTEL_*`,
 * `LOG_LEVEL`, and the `telemetry` section of `CONFIG_FILE`), once. Invalid settings stop the
 * process with exit code 78 and a message naming them, as the service itself would.
 */
export function instrument(defaults: { serviceName: string }): Telemetry {
  const running = installedTelemetry();
  if (running) return running;
  const config = loadConfigOrExit(() =>
    loadConfig<InstrumentConfig>(
      {
        telemetry: telemetrySchema(defaults),
        // Only the sandbox name is read; the baseline name's default does not matter here.
        signadot: signadotIdentitySchema({ baselineName: defaults.serviceName }),
      },
      { fileSections: ['telemetry', 'signadot'] },
    ),
  );
  const telemetry = startTelemetry(config.telemetry, instanceLabel(config.signadot.sandboxName));
  (globalThis as Holder)[INSTALLED] = telemetry;
  return telemetry;
}

/**
 * For a service's `main`: the telemetry its `--require` entry started, else (started without it)
 * telemetry started now, with a warning on stderr. `main` loads nothing that loads `kafkajs` before
 * calling this, so the late start still instruments it; the `--require` entry makes that hold
 * whatever the service's modules load.
 */
export function serviceTelemetry(defaults: { serviceName: string }, requireEntry: string): Telemetry {
  if (installedTelemetry() === undefined) {
    console.error(
      `telemetry: started without \`node --require ${requireEntry}\`; starting it now (see docs/tracing.md)`,
    );
  }
  return instrument(defaults);
}
