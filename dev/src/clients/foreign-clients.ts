/**
 * Harness for the foreign-client tests and benchmark: a baseline and a sandbox worker process of the
 * sample domain on a queue of their own, a sandbox registered with the routeserver stand-in, and the
 * Temporal clients of other languages (Python SDK in `.tools/python`, Go SDK client in
 * `.tools/bin/temporal-go-client`, the Temporal CLI) that start workflows on the shared queue without
 * any of this project's code. Both are installed by dev/bin/setup.sh.
 */

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort, runProcess } from '@sandbox-routing/testkit';
import { PAYMENTS_PROGRAM } from '../pipeline/launcher';
import { type ServiceProcess, startService, stopService } from '../pipeline/service-process';
import { REPO_ROOT, STACK_DIR, TOOLS_DIR } from '../stack/paths';

export const PYTHON = path.join(TOOLS_DIR, 'python', 'bin', 'python');
export const PYTHON_CLIENT = path.join(REPO_ROOT, 'dev', 'src', 'clients', 'python', 'foreign_client.py');
export const GO_CLIENT = path.join(TOOLS_DIR, 'bin', 'temporal-go-client');

/** The cases the Python client runs (see foreign_client.py); the Go client runs the first two. */
export const PYTHON_CASES = [
  'start',
  'signal-with-start',
  'start-then-signal',
  'update-with-start',
  'start-then-update',
  'query',
] as const;
export type ClientCase = (typeof PYTHON_CASES)[number];
export const GO_CASES = ['start', 'signal-with-start'] as const satisfies readonly ClientCase[];

/** Where a step ran, as the sample domain reports it. */
interface Placement {
  instance: string;
  taskQueue: string;
}

/** The parts of the sample domain's results the checks read. */
export interface SampleResult {
  routingKey: string | null;
  workflow: Placement;
  activities: (Placement & { name: string; routingKey: string | null })[];
  pricing: string;
  approvedBy?: string;
  approvals?: { approvedBy: string; via: 'signal' | 'update' }[];
}

/** What a foreign client prints for one run of a case. */
export interface ClientRun {
  case: ClientCase;
  workflowId: string;
  /** Approvals sent by signal that the server accepted, in order. */
  signals: string[];
  /** Answers of the `approveOrder` updates. */
  receipts?: { approvedBy: string; first: boolean; workflow: Placement }[];
  /** `approvalStatus` queries sent while the workflow was being placed. */
  queries?: { ms: number; answer?: string; error?: string }[];
  result: SampleResult;
  startToCompleteMs: number;
  /** Python only: the trace of the run's spans (its client span and everything the workflow did). */
  traceId?: string;
}

export interface ClientOptions {
  taskQueue: string;
  key: string;
  case: ClientCase;
  repeat?: number;
  /** Python only: the baggage value to send instead of the key (e.g. `K;prop=1`). */
  baggageValue?: string;
  timeoutMs?: number;
  /** Python only: an OTLP/HTTP endpoint (the stack's Jaeger) to export the client's spans to. */
  otlpEndpoint?: string;
}

/** Runs a foreign client to completion and parses the JSON line it prints per run. */
export async function runForeignClient(
  language: 'python' | 'go',
  temporalAddress: string,
  options: ClientOptions,
): Promise<ClientRun[]> {
  const [command, args] =
    language === 'python'
      ? [
          PYTHON,
          [
            PYTHON_CLIENT,
            ...['--address', temporalAddress, '--task-queue', options.taskQueue, '--key', options.key],
            ...['--case', options.case, '--repeat', String(options.repeat ?? 1)],
            ...(options.baggageValue ? ['--baggage-value', options.baggageValue] : []),
          ],
        ]
      : [
          GO_CLIENT,
          [
            ...['-address', temporalAddress, '-task-queue', options.taskQueue, '-key', options.key],
            ...['-case', options.case, '-repeat', String(options.repeat ?? 1)],
          ],
        ];
  if (!existsSync(command)) throw new Error(`${command} is missing: run dev/bin/setup.sh`);
  const run = await runProcess(command, args, {
    timeoutMs: options.timeoutMs ?? 120_000,
    env: options.otlpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint } : {},
  });
  if (run.code !== 0) {
    throw new Error(
      `${language} client ${options.case} exited with ${run.code ?? run.signal}:\n${run.stderr}`,
    );
  }
  return run.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as ClientRun);
}

async function standInAdmin(url: string, method: 'PUT' | 'DELETE', adminPath: string, body?: unknown) {
  const response = await fetch(`${url}${adminPath}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status >= 400 && !(method === 'DELETE' && response.status === 404))
    throw new Error(`${method} ${adminPath}: ${response.status} ${await response.text()}`);
}

/**
 * A baseline and a sandbox worker process of the sample domain, the payments service they charge
 * through (its baseline: the sandbox forks only the worker), and the sandbox's routing key.
 */
export class WorkerPair {
  readonly sharedQueue = `foreign-${randomUUID().slice(0, 8)}`;
  readonly sandbox = `fc-${randomUUID().slice(0, 8)}`;
  readonly key = `fk${randomUUID().replaceAll('-', '').slice(0, 11)}`;
  private services: ServiceProcess[] = [];

  constructor(
    private readonly temporalAddress: string,
    private readonly routeserverUrl: string,
    private readonly routeserverGrpcAddress: string,
    /** Extra environment of both workers (e.g. where to export traces). */
    private readonly extraEnv: NodeJS.ProcessEnv = {},
  ) {}

  get sandboxQueue(): string {
    return `${this.sharedQueue}@${this.sandbox}`;
  }

  async start(): Promise<void> {
    await standInAdmin(this.routeserverUrl, 'PUT', `/admin/sandboxes/${this.sandbox}`, {
      routingKey: this.key,
      forks: [{ kind: 'Deployment', namespace: 'local', name: 'worker' }],
    });
    const env = {
      TEMPORAL_ADDRESS: this.temporalAddress,
      TEMPORAL_TASK_QUEUE: this.sharedQueue,
      SIGNADOT_ROUTESERVER_URL: this.routeserverUrl,
      SIGNADOT_ROUTESERVER_GRPC_ADDRESS: this.routeserverGrpcAddress,
      ROUTESERVER_REFRESH_INTERVAL_MS: '500',
      ROUTESERVER_UNKNOWN_KEY_REFETCH_INTERVAL_MS: '100',
      WORKER_SHUTDOWN_GRACE_MS: '2000',
      ...this.extraEnv,
    };
    const logDir = path.join(STACK_DIR, 'logs', 'foreign-clients');
    this.services = await Promise.all([
      startService({
        name: 'worker-baseline',
        entry: 'worker/dist/main.js',
        preload: 'worker/dist/instrument.js',
        env,
        httpPort: await freePort(),
        logDir,
      }),
      startService({
        name: `worker-${this.sandbox}`,
        entry: 'worker/dist/main.js',
        preload: 'worker/dist/instrument.js',
        env: { ...env, SIGNADOT_SANDBOX_NAME: this.sandbox, WORKER_VARIANT: 'v2' },
        httpPort: await freePort(),
        logDir,
      }),
      startService({
        name: 'payments-baseline',
        python: PAYMENTS_PROGRAM,
        env: { TEMPORAL_ADDRESS: this.temporalAddress, PAYMENTS_SHUTDOWN_GRACE_MS: '2000', ...this.extraEnv },
        httpPort: await freePort(),
        logDir,
      }),
    ]);
  }

  async stop(): Promise<void> {
    await Promise.all(this.services.map((service) => stopService(service, 10_000)));
    await standInAdmin(this.routeserverUrl, 'DELETE', `/admin/sandboxes/${this.sandbox}`);
  }
}
