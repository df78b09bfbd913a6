import { spawn } from 'node:child_process';
import path from 'node:path';

/** The compiled CLI, as the Kubernetes Job runs it. */
export const CLI = path.resolve(__dirname, '../cli.js');

/** What a finished CLI run printed and how it ended. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running CLI process. */
export interface CliProcess {
  pid: number | undefined;
  /** Sends a signal to this process (by its pid). */
  kill(signal: NodeJS.Signals): void;
  done: Promise<CliRun>;
}

/**
 * Starts `node producer/dist/cli.js <args>` with `env` on top of this process's environment. A run that
 * outlives `timeoutMs` is killed (its own pid only), so a hung CLI fails the test instead of blocking it.
 */
export function startCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { pid: child.pid, kill: (signal) => child.kill(signal), done };
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return startCli(args, env).done;
}
