import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { pollUntil } from '@sandbox-routing/testkit';

/** A process the stack started: enough to find it again and to be sure it is still ours. */
export interface ManagedProcess {
  pid: number;
  /** A fragment of its command line, checked before signalling so a recycled PID is never killed. */
  marker: string;
  logFile: string;
  startedAt: string;
}

/** True when `pid` runs and its command line still contains `marker`. */
export function isOurs(proc: Pick<ManagedProcess, 'pid' | 'marker'>): boolean {
  const cmdline = `/proc/${proc.pid}/cmdline`;
  if (!existsSync(cmdline)) return false;
  try {
    const text = readFileSync(cmdline, 'utf8').replaceAll('\0', ' ');
    if (!text.includes(proc.marker)) return false;
    // A zombie has an empty cmdline and state Z; treat it as gone.
    const stat = readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

export interface SpawnSpec {
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  marker: string;
}

/**
 * Starts a long-running server detached in its own process group, output appended to its log file.
 * Returns once the PID is known; readiness is the caller's to poll.
 */
export async function startDetached(spec: SpawnSpec): Promise<ManagedProcess> {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid as number));
    });
    child.unref();
    return { pid, marker: spec.marker, logFile: spec.logFile, startedAt: new Date().toISOString() };
  } finally {
    closeSync(fd);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Negative PID: the whole process group we created with `detached`, i.e. exactly what we started.
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Stops a managed process: SIGTERM, wait for it to exit, SIGKILL after `graceMs`. */
export async function stopProcess(
  proc: ManagedProcess,
  graceMs = 15_000,
): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isOurs(proc)) return 'not-running';
  signalGroup(proc.pid, 'SIGTERM');
  try {
    await pollUntil(() => !isOurs(proc), {
      description: `pid ${proc.pid} to exit`,
      timeoutMs: graceMs,
      intervalMs: 100,
    });
    return 'stopped';
  } catch {
    signalGroup(proc.pid, 'SIGKILL');
    await pollUntil(() => !isOurs(proc), {
      description: `pid ${proc.pid} to die`,
      timeoutMs: 5_000,
      intervalMs: 100,
    });
    return 'killed';
  }
}

/** Last lines of a log file, for error messages when a server fails to start. */
export function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

/** Resident memory of a process in MiB, from /proc (undefined if it is gone). */
export function residentMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : undefined;
  } catch {
    return undefined;
  }
}
