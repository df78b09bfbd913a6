import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { pollUntil } from '@sandbox-routing/testkit';
import { paths, STACK_DIR } from './paths';
import { isOurs, type ManagedProcess, residentMiB, startDetached, stopProcess, tail } from './processes';
import {
  jaegerService,
  kafkaService,
  routeserverService,
  type StackService,
  temporalService,
  temporalTlsService,
} from './services';
import { readSettings, type StackSettings } from './settings';
import { ensureTlsMaterial } from './tls';

interface StackState {
  services: Partial<Record<StackService['name'], ManagedProcess>>;
  /** The ports it was started with: later commands in another shell use these, not their own env. */
  settings?: StackSettings;
}

const READY_TIMEOUT_MS: Record<StackService['name'], number> = {
  kafka: 90_000,
  temporal: 90_000,
  'temporal-tls': 20_000,
  routeserver: 20_000,
  jaeger: 60_000,
};

const log = (message: string) => console.log(`[stack] ${message}`);

function readState(): StackState {
  if (!existsSync(paths.stateFile)) return { services: {} };
  const text = readFileSync(paths.stateFile, 'utf8');
  try {
    return JSON.parse(text) as StackState;
  } catch (error) {
    throw new Error(
      `the stack's state file ${paths.stateFile} is unreadable (${(error as Error).message}); stop the processes it recorded by their PIDs (ps shows their commands, logs are in ${paths.logs}) and delete the file`,
    );
  }
}

function writeState(state: StackState): void {
  mkdirSync(STACK_DIR, { recursive: true });
  // Write then rename: a reader (another stack command in another shell) never sees a half-written file.
  const partial = `${paths.stateFile}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(partial, paths.stateFile);
}

/**
 * The settings of the running stack when one runs (as recorded by `up`), else from the environment:
 * `status`, `exec` and `down` in a new shell must reach the ports the stack was started with.
 */
export function currentSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  const state = readState();
  const running = Object.values(state.services).some((proc) => proc !== undefined && isOurs(proc));
  if (!running || !state.settings) return readSettings(env);
  // A stack started before a setting existed did not record it: derive it from what it did record.
  const recorded = state.settings;
  const derived = readSettings({
    ...env,
    STACK_KAFKA_PORT: String(recorded.kafkaPort),
    STACK_TEMPORAL_PORT: String(recorded.temporalPort),
  });
  return { ...derived, ...recorded };
}

export function stackServices(settings: StackSettings = currentSettings()): StackService[] {
  const services = [
    kafkaService(settings),
    temporalService(settings),
    temporalTlsService(settings),
    routeserverService(settings),
  ];
  return settings.tracing ? [...services, jaegerService(settings)] : services;
}

/** Secrets among the addresses: in .stack/env, never printed. */
export const SECRET_ADDRESSES: readonly string[] = ['STACK_KAFKA_SASL_PASSWORD'];

/** Addresses of the stack as `KEY=VALUE` pairs, as written to .stack/env. */
export function stackAddresses(services = stackServices()): Record<string, string> {
  return Object.assign({}, ...services.map((s) => s.addresses()));
}

/** True when every service of the stack has a live process that we started. */
export function isUp(): boolean {
  const state = readState();
  return stackServices().every((s) => {
    const proc = state.services[s.name];
    return proc !== undefined && isOurs(proc);
  });
}

/**
 * Starts whatever part of the stack is not running, waits for readiness by polling, creates topics,
 * writes .stack/env. A no-op (apart from the readiness check) when everything already runs.
 */
export async function up(): Promise<Record<string, string>> {
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.data, { recursive: true });
  const settings = currentSettings();
  const requested = readSettings();
  if (JSON.stringify(requested) !== JSON.stringify(settings)) {
    log('the stack already runs with other settings (ports); using those. `down` first to change them.');
  }
  const services = stackServices(settings);
  const state = readState();
  state.settings = settings;
  // Certificates first: Kafka's listener and the terminator read them when they start, and a server
  // still holding a replaced set would refuse every client, so it restarts.
  if (ensureTlsMaterial().generated) {
    for (const name of ['kafka', 'temporal-tls'] as const) {
      const proc = state.services[name];
      if (!proc || !isOurs(proc)) continue;
      log(`${name} holds the previous certificates: restarting it`);
      await stopProcess(proc);
      delete state.services[name];
      writeState(state);
    }
  }
  const startedNow: StackService[] = [];
  try {
    const toStart = services.filter((service) => {
      const existing = state.services[service.name];
      if (existing && isOurs(existing)) log(`${service.name} already running (pid ${existing.pid})`);
      return !(existing && isOurs(existing));
    });
    // Fetch tools and prepare data for all first, so a missing tool fails before anything starts.
    for (const service of toStart) service.prepare();
    for (const service of toStart) {
      const proc = await startDetached(service.spawnSpec());
      state.services[service.name] = proc;
      writeState(state); // record the PID at once, so `down` can stop it even if readiness fails
      startedNow.push(service);
      log(`${service.name} started (pid ${proc.pid}, log ${proc.logFile})`);
    }
    await Promise.all(
      services.map(async (service) => {
        const proc = state.services[service.name] as ManagedProcess;
        const started = Date.now();
        await pollUntil(() => service.isReady(), {
          description: `${service.name} to be ready`,
          timeoutMs: READY_TIMEOUT_MS[service.name],
          intervalMs: 250,
          abortIf: () => {
            if (!isOurs(proc))
              throw new Error(
                `${service.name} exited during start-up; last log lines:\n${tail(proc.logFile)}`,
              );
          },
        });
        await service.afterReady?.();
        if (startedNow.includes(service))
          log(`${service.name} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }),
    );
  } catch (error) {
    for (const service of startedNow.reverse()) {
      const proc = state.services[service.name];
      if (proc) {
        log(`${service.name}: log tail\n${tail(proc.logFile, 15)}`);
        await stopProcess(proc);
      }
      delete state.services[service.name];
    }
    writeState(state);
    throw error;
  }
  const addresses = stackAddresses(services);
  writeFileSync(
    paths.envFile,
    `${Object.entries(addresses)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  return addresses;
}

/** Stops exactly the processes this stack started (by PID, after checking they are still ours). */
export async function down(): Promise<void> {
  const state = readState();
  const names = Object.keys(state.services).reverse() as StackService['name'][];
  for (const name of names) {
    const proc = state.services[name];
    if (!proc) continue;
    const outcome = await stopProcess(proc);
    log(`${name} (pid ${proc.pid}): ${outcome}`);
    delete state.services[name];
    writeState(state);
  }
  rmSync(paths.envFile, { force: true });
  rmSync(paths.stateFile, { force: true });
}

/** Stops one server of the stack (e.g. Temporal, for an outage test); `up` starts it again. */
export async function stopService(name: StackService['name']): Promise<void> {
  const state = readState();
  const proc = state.services[name];
  if (!proc) return;
  await stopProcess(proc);
  delete state.services[name];
  writeState(state);
}

export interface ServiceStatus {
  name: string;
  pid: number | undefined;
  running: boolean;
  ready: boolean;
  rssMiB: number | undefined;
}

export async function status(): Promise<ServiceStatus[]> {
  const state = readState();
  return Promise.all(
    stackServices().map(async (service) => {
      const proc = state.services[service.name];
      const running = proc !== undefined && isOurs(proc);
      const ready = running ? await service.isReady().catch(() => false) : false;
      return {
        name: service.name,
        pid: proc?.pid,
        running,
        ready,
        rssMiB: running ? residentMiB(proc.pid) : undefined,
      };
    }),
  );
}

/** Deletes the stack's data (Kafka log dirs, Temporal's SQLite file, logs). Only when it is down. */
export function purge(): void {
  if (Object.keys(readState().services).length > 0)
    throw new Error('stop the stack first: npm run stack -- down');
  rmSync(paths.data, { recursive: true, force: true });
  rmSync(paths.logs, { recursive: true, force: true });
}
