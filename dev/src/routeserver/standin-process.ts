import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pollUntil } from '@sandbox-routing/testkit';

/** The routeserver stand-in's compiled CLI (compiled next to this file). */
const STAND_IN_MAIN = path.resolve(__dirname, 'main.js');

export interface StandInProcessOptions {
  /** HTTP port (0: any free port; the chosen one is kept for restarts). */
  port?: number;
  /** gRPC port (0: any free port, kept for restarts), or `null` for none. Default 0. */
  grpcPort?: number | null;
  stateFile?: string;
}

/** A real stand-in server in its own process, so tests can stop and restart it like an outage. */
export class StandInProcess {
  private child: ChildProcess | undefined;
  url = '';
  /** gRPC `host:port`; empty when started without gRPC. */
  grpcAddress = '';

  private constructor(private options: StandInProcessOptions) {}

  /** Starts a stand-in process. */
  static async start(options: StandInProcessOptions = {}): Promise<StandInProcess> {
    const server = new StandInProcess({ ...options });
    await server.spawn();
    return server;
  }

  private args(): string[] {
    const { port, grpcPort, stateFile } = this.options;
    const args = ['--port', String(port ?? 0)];
    args.push(...(grpcPort === null ? ['--no-grpc'] : ['--grpc-port', String(grpcPort ?? 0)]));
    if (stateFile) args.push('--state-file', stateFile);
    return args;
  }

  private async spawn(): Promise<void> {
    if (!existsSync(STAND_IN_MAIN)) throw new Error(`${STAND_IN_MAIN} missing: run npx tsc -b`);
    const child = spawn(process.execPath, [STAND_IN_MAIN, '--host', '127.0.0.1', ...this.args()], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const listening = /listening on (http:\/\/\S+) \((?:gRPC on (\S+)|no gRPC)\)/;
    const started = await pollUntil(() => listening.exec(output) ?? undefined, {
      description: 'the stand-in to listen',
      timeoutMs: 10_000,
      intervalMs: 20,
      abortIf: () => {
        if (child.exitCode !== null) throw new Error(`stand-in exited with ${child.exitCode}`);
      },
    });
    this.url = started[1] as string;
    this.grpcAddress = started[2] ?? '';
    // Keep the ports across restarts, like a server coming back at the same address.
    this.options.port = Number(new URL(this.url).port);
    if (this.grpcAddress) this.options.grpcPort = Number(this.grpcAddress.split(':').pop());
  }

  /** Stops the process (SIGTERM, by PID) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /**
   * Starts it again on the same ports, with an empty state unless a state file was given; `changes`
   * may give another state file, or turn gRPC off (`grpcPort: null`) or on at a given port.
   */
  async restart(changes: Pick<StandInProcessOptions, 'stateFile' | 'grpcPort'> = {}): Promise<void> {
    await this.stop();
    if ('stateFile' in changes) this.options.stateFile = changes.stateFile;
    if ('grpcPort' in changes) this.options.grpcPort = changes.grpcPort;
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
    return (await this.requests()).routingRules;
  }

  /** `GET /admin/requests`: HTTP routing-rules requests, gRPC calls, watch streams open now. */
  async requests(): Promise<StandInRequests> {
    return (await (await this.admin('GET', '/admin/requests')).json()) as StandInRequests;
  }
}

/** What `GET /admin/requests` returns. */
export interface StandInRequests {
  routingRules: number;
  getWorkloadRoutingRules: number;
  watchWorkloadRoutingRules: number;
  activeWatches: number;
}
