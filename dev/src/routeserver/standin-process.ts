import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pollUntil } from '@sandbox-routing/testkit';

/** The routeserver stand-in's compiled CLI (compiled next to this file). */
const STAND_IN_MAIN = path.resolve(__dirname, 'main.js');

/** A real stand-in server in its own process, so tests can stop and restart it like an outage. */
export class StandInProcess {
  private child: ChildProcess | undefined;
  url = '';

  private constructor(private readonly args: string[]) {}

  /** Starts a stand-in on `port` (0: any free port; the chosen one is kept for restarts). */
  static async start(options: { port?: number; stateFile?: string } = {}): Promise<StandInProcess> {
    const args = ['--port', String(options.port ?? 0)];
    if (options.stateFile) args.push('--state-file', options.stateFile);
    const server = new StandInProcess(args);
    await server.spawn();
    return server;
  }

  private async spawn(): Promise<void> {
    if (!existsSync(STAND_IN_MAIN)) throw new Error(`${STAND_IN_MAIN} missing: run npx tsc -b`);
    const child = spawn(process.execPath, [STAND_IN_MAIN, '--host', '127.0.0.1', ...this.args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const url = await pollUntil(() => /listening on (http:\/\/\S+)/.exec(output)?.[1], {
      description: 'the stand-in to listen',
      timeoutMs: 10_000,
      intervalMs: 20,
      abortIf: () => {
        if (child.exitCode !== null) throw new Error(`stand-in exited with ${child.exitCode}`);
      },
    });
    this.url = url;
    // Keep the port across restarts, like a server coming back at the same address.
    const port = new URL(url).port;
    const index = this.args.indexOf('--port');
    this.args[index + 1] = port;
  }

  /** Stops the process (SIGTERM, by PID) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Starts it again on the same port, with an empty state unless a state file was given. */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  async admin(method: string, adminPath: string, body?: unknown): Promise<Response> {
    const response = await fetch(`${this.url}${adminPath}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status >= 400)
      throw new Error(`${method} ${adminPath}: ${response.status} ${await response.text()}`);
    return response;
  }

  putSandbox(name: string, routingKey: string, forks: { kind: string; namespace: string; name: string }[]) {
    return this.admin('PUT', `/admin/sandboxes/${name}`, { routingKey, forks });
  }

  async routingRuleRequests(): Promise<number> {
    const response = await this.admin('GET', '/admin/requests');
    return ((await response.json()) as { routingRules: number }).routingRules;
  }
}
