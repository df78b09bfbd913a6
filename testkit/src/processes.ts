import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A port nobody listens on right now (the OS picks it; the caller binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port assigned');
  return address.port;
}

/** What a finished process printed and how it ended. */
export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running child process. */
export interface RunningProcess {
  pid: number | undefined;
  /** Sends a signal to this process (by its pid). */
  kill(signal: NodeJS.Signals): void;
  done: Promise<ProcessRun>;
}

export interface ProcessOptions {
  /** Environment on top of this process's (or instead of it, with `inheritEnv: false`). */
  env?: NodeJS.ProcessEnv;
  /** Start from this process's environment (default) or from `env` alone. */
  inheritEnv?: boolean;
  /** Working directory (default: this process's). */
  cwd?: string;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** A run that outlives this is killed (its own pid only), so a hung command fails instead of blocking. */
  timeoutMs?: number;
}

/** Starts `command args…`, collecting its output. */
export function startProcess(
  command: string,
  args: readonly string[],
  options: ProcessOptions = {},
): RunningProcess {
  // NODE_TEST_CONTEXT would make a child node process report to this test runner.
  const { NODE_TEST_CONTEXT: _testContext, ...inherited } = options.inheritEnv === false ? {} : process.env;
  const child = spawn(command, args, {
    env: { ...inherited, ...options.env },
    cwd: options.cwd,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const done = new Promise<ProcessRun>((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': only then has all of the output been read.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { pid: child.pid, kill: (signal) => child.kill(signal), done };
}

/** Runs `command args…` to completion. */
export function runProcess(
  command: string,
  args: readonly string[],
  options?: ProcessOptions,
): Promise<ProcessRun> {
  return startProcess(command, args, options).done;
}
