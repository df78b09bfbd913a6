import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pollUntil } from '@sandbox-routing/testkit';
import { checkoutLauncher, type Launcher, type PythonProgram } from './launcher';

/** A service instance the harness started: one process, like one pod. */
export interface ServiceProcess {
  name: string;
  httpUrl: string;
  logFile: string;
  child: ChildProcess;
  /** Resolves once the process has exited and everything it printed is in `logFile`. */
  logClosed: Promise<void>;
}

export interface StartServiceOptions {
  name: string;
  /** Path of the compiled entry point, relative to the repository root (a node program). */
  entry?: string;
  /** A Python service instead of a node program (`python -m <module>`); then no `entry` or `preload`. */
  python?: PythonProgram;
  /** Its command-line arguments (e.g. a subcommand). */
  args?: string[];
  /** Its `--require` entry (OpenTelemetry), relative to the repository root, as its start command has it. */
  preload?: string;
  env: NodeJS.ProcessEnv;
  httpPort: number;
  logDir: string;
  /** Where the program runs from: the checkout (default) or an image's runtime tree. */
  launcher?: Launcher;
}

/** Starts a service with its log in `logDir` and waits until its /readyz says ready. */
export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  if ((options.entry === undefined) === (options.python === undefined)) {
    throw new Error(`${options.name}: give either a node entry or a Python program`);
  }
  mkdirSync(options.logDir, { recursive: true });
  const logFile = path.join(options.logDir, `${options.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const launcher = options.launcher ?? checkoutLauncher;
  const env = { ...options.env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(options.httpPort) };
  const launch = options.python
    ? launcher.launchPython(options.python, options.args ?? [], env)
    : launcher.launch(options.entry as string, options.args ?? [], env, options.preload);
  const child = spawn(launch.command, launch.args, {
    cwd: launch.cwd,
    env: launch.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Both into one file, which is ended only once both are read to their end ('close'): ending it with
  // whichever stream ends first lost the other's last lines (a crash's stack, "ingress stopping").
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once('close', () => log.end());
  const logClosed = new Promise<void>((resolve) => log.once('close', () => resolve()));
  const httpUrl = `http://127.0.0.1:${options.httpPort}`;
  try {
    await waitUntilReady(options, child, httpUrl, logFile);
  } catch (error) {
    // Never leave a process behind that nobody will stop.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw error;
  }
  return { name: options.name, httpUrl, logFile, child, logClosed };
}

async function waitUntilReady(
  options: StartServiceOptions,
  child: ChildProcess,
  httpUrl: string,
  logFile: string,
): Promise<void> {
  await pollUntil(
    async () => {
      const response = await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      return response.ok;
    },
    {
      description: `${options.name} to be ready (log: ${logFile})`,
      timeoutMs: 60_000,
      intervalMs: 100,
      abortIf: () => {
        if (child.exitCode !== null)
          throw new Error(`${options.name} exited with ${child.exitCode}; see ${logFile}`);
      },
    },
  );
}

/** SIGTERM by PID and wait for the exit; returns the exit code (SIGKILL after `graceMs`). */
export async function stopService(service: ServiceProcess, graceMs = 35_000): Promise<number | null> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Kills by PID without waiting for a graceful stop: a crash, for redelivery tests. */
export async function killService(service: ServiceProcess): Promise<void> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Freezes a service (SIGSTOP by PID): it keeps its sockets and its group membership (until the session
 * times out) but decides nothing, the way a GC pause or a throttled pod does. `resumeService` thaws it.
 */
export function suspendService(service: ServiceProcess): void {
  service.child.kill('SIGSTOP');
}

/** Thaws a service frozen by {@link suspendService} (SIGCONT by PID). */
export function resumeService(service: ServiceProcess): void {
  service.child.kill('SIGCONT');
}
