/** Test helpers: the compiled worker and teardown command as child processes, as Kubernetes runs them. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort, pollUntil, runProcess } from '@sandbox-routing/testkit';

const WORKER_MAIN = path.resolve(__dirname, '../main.js');
/** The teardown bin as npm installs it, run the way a user runs it. */
const TEARDOWN_BIN = path.resolve(__dirname, '../../../node_modules/.bin/sandbox-routing-worker-teardown');
const BUILD_BUNDLE_MAIN = path.resolve(__dirname, '../build-workflow-bundle.js');

/**
 * Only what the child needs: no CONFIG_FILE or settings leaking in from the developer's shell, and
 * no NODE_TEST_CONTEXT (it would make a child that is not a test report to this test runner).
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One `node worker/dist/main.js` process with its JSON log lines. */
export class WorkerProcess {
  readonly logLines: string[] = [];
  private readonly stderr: string[] = [];
  private readonly exited: Promise<ExitStatus>;
  private exitStatus: ExitStatus | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly httpUrl: string,
  ) {
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      this.logLines.push(...lines);
    });
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      }),
    );
  }

  /** Starts a worker with `env` (on top of an empty environment) and a free HTTP port. */
  static async start(env: Record<string, string>): Promise<WorkerProcess> {
    if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} missing: run npx tsc -b`);
    const port = await freePort();
    const child = spawn(process.execPath, [WORKER_MAIN], {
      env: childEnv({ ...env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new WorkerProcess(child, `http://127.0.0.1:${port}`);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Recent output, for assertion messages. */
  tail(lines = 20): string {
    return [...this.logLines.slice(-lines), ...this.stderr.slice(-5)].join('\n');
  }

  /** Polls `/readyz` until it answers 200, failing early if the process exits. */
  async waitReady(timeoutMs: number): Promise<void> {
    await pollUntil(
      async () => {
        const response = await fetch(`${this.httpUrl}/readyz`);
        return response.status === 200;
      },
      {
        description: `worker ${this.httpUrl} to be ready`,
        timeoutMs,
        abortIf: () => {
          if (this.exitStatus) {
            throw new Error(`worker exited (${JSON.stringify(this.exitStatus)}):\n${this.tail()}`);
          }
        },
      },
    );
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.httpUrl}/metrics`)).text();
  }

  /** Parsed JSON log lines whose `msg` is `message`. */
  logs(message: string): Record<string, unknown>[] {
    return this.logLines.flatMap((line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        return parsed.msg === message ? [parsed] : [];
      } catch {
        return [];
      }
    });
  }

  /** Sends `signal` (by PID) and waits for the exit, at most `timeoutMs`. */
  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<ExitStatus & { elapsedMs: number }> {
    const started = Date.now();
    if (!this.exitStatus) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`worker did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const status = await Promise.race([this.exited, timeout]);
      return { ...status, elapsedMs: Date.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Last resort for `after` hooks: SIGKILL by PID if still running. */
  async kill(): Promise<void> {
    if (this.exitStatus || this.child.pid === undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `sandbox-routing-worker-teardown <args>` to completion; kills it (by PID) after `timeoutMs`. */
export function runTeardown(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<CommandResult> {
  return runProcess(TEARDOWN_BIN, args, {
    env: childEnv(env),
    inheritEnv: false,
    timeoutMs,
  });
}

/** Runs `node worker/dist/build-workflow-bundle.js <output>`, as the Dockerfile does. */
export function buildBundle(output: string, timeoutMs = 120_000): Promise<CommandResult> {
  return runProcess(process.execPath, [BUILD_BUNDLE_MAIN, output], {
    env: childEnv({}),
    inheritEnv: false,
    timeoutMs,
  });
}
