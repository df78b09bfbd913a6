import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RoutingDecisionEvent } from '@sandbox-routing/core';
import { currentRoutingKey, RouteserverClient, RouteTable, type WorkloadRef } from '@sandbox-routing/core';
import {
  createRoutingWorker,
  ROUTING_WORKFLOW_INTERCEPTORS,
  type TracingTelemetry,
  tracingWorkerOptions,
} from '@sandbox-routing/temporal';
import { type RecordedRun, runHistories } from '@sandbox-routing/testkit';
import { Context } from '@temporalio/activity';
import {
  Client,
  Connection,
  defaultPayloadConverter,
  type Payload,
  type WorkflowClientInterceptor,
} from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { StandInProcess } from '../../../routeserver/standin-process';
import type { Observation } from './fixtures/routing-workflows';

let runtimeInstalled = false;

export const WORKER_BASELINE: WorkloadRef = { kind: 'Deployment', namespace: 'local', name: 'worker' };

export function routeTable(url: string): RouteTable {
  return new RouteTable({
    client: new RouteserverClient({ url, requestTimeoutMs: 1000 }),
    baseline: WORKER_BASELINE,
    refreshIntervalMs: 200,
    unknownKeyRefetchIntervalMs: 100,
    firstSyncTimeoutMs: 10_000,
  }).start();
}

/** A baseline and a sandboxed worker of the same code, as two Deployments would run them. */
export class RoutingWorkers {
  readonly sharedQueue = `routing-it-${randomUUID().slice(0, 8)}`;
  readonly decisions: RoutingDecisionEvent[] = [];
  private workers: Worker[] = [];
  private running: Promise<void>[] = [];
  private tables: RouteTable[] = [];
  private connections: { close(): Promise<void> }[] = [];
  client!: Client;

  constructor(
    private readonly temporalAddress: string,
    private readonly routeserverUrl: string,
    readonly sandboxName: string,
    private readonly options: {
      recordSearchAttributes?: boolean;
      /** Trace the workers with Temporal's OpenTelemetry interceptors, into this SDK's span processor. */
      telemetry?: TracingTelemetry;
    } = {},
  ) {}

  get sandboxQueue(): string {
    return `${this.sharedQueue}@${this.sandboxName}`;
  }

  async start(clientInterceptors: WorkflowClientInterceptor[]): Promise<void> {
    if (!runtimeInstalled) {
      Runtime.install({ logger: new DefaultLogger('WARN') });
      runtimeInstalled = true;
    }
    const nativeConnection = await NativeConnection.connect({ address: this.temporalAddress });
    this.connections.push(nativeConnection);
    for (const sandboxName of ['', this.sandboxName]) {
      const table = routeTable(this.routeserverUrl);
      this.tables.push(table);
      const instance = sandboxName || 'baseline';
      const traced = <T extends Parameters<typeof tracingWorkerOptions>[0]>(options: T): T =>
        this.options.telemetry ? tracingWorkerOptions(options, this.options.telemetry) : options;
      const worker = await createRoutingWorker(
        traced({
          connection: nativeConnection,
          workflowsPath: require.resolve('./fixtures/routing-workflows'),
          activities: {
            async whereAmI(step: string): Promise<Observation> {
              return {
                step,
                key: currentRoutingKey(),
                taskQueue: Context.current().info.taskQueue,
                instance,
              };
            },
          },
        }),
        {
          identity: { baseline: WORKER_BASELINE, sandboxName },
          routeTable: table,
          sharedQueue: this.sharedQueue,
          recordSearchAttributes: this.options.recordSearchAttributes,
          onDecision: (event) => this.decisions.push(event),
        },
      );
      this.workers.push(worker);
      this.running.push(worker.run());
    }
    const connection = await Connection.connect({ address: this.temporalAddress });
    this.connections.push(connection);
    this.client = new Client({ connection, interceptors: { workflow: clientInterceptors } });
  }

  async stop(): Promise<void> {
    for (const worker of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.allSettled(this.running);
    await Promise.all(this.tables.map((t) => t.stop()));
    for (const connection of this.connections.reverse()) await connection.close();
  }
}

/**
 * The runs a test file keeps for replay, by case name. `replayAll` replays each with the routing
 * interceptors; with RECORD_HISTORIES=<dir> it also saves them as the fixtures `replay.test.ts`
 * replays without a server, as `<name>-<n>.json`.
 */
export class HistoryRecorder {
  readonly runs: { name: string; run: RecordedRun }[] = [];

  /** Keeps every run of `workflowId` (through continue-as-new). */
  async record(name: string, client: Client, workflowId: string): Promise<void> {
    for (const run of await runHistories(client, workflowId)) this.runs.push({ name, run });
  }

  async replayAll(): Promise<void> {
    const dir = process.env.RECORD_HISTORIES;
    const counts = new Map<string, number>();
    for (const { name, run } of this.runs) {
      await Worker.runReplayHistory(
        {
          workflowsPath: require.resolve('./fixtures/routing-workflows'),
          interceptors: { workflowModules: [ROUTING_WORKFLOW_INTERCEPTORS] },
        },
        run.history,
        run.workflowId,
      );
      if (dir) {
        const n = counts.get(name) ?? 0;
        counts.set(name, n + 1);
        mkdirSync(dir, { recursive: true });
        const json = JSON.parse(historyToJSON(run.history));
        writeFileSync(
          path.join(dir, `${name}-${n}.json`),
          `${JSON.stringify({ workflowId: run.workflowId, history: json })}\n`,
        );
      }
    }
  }
}

/** A fresh routing key for one test file: `prefix` then 12 hex digits. */
export function uniqueKey(prefix: string): string {
  return `${prefix}${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** The routeserver stand-in with one sandbox that forks the worker under `key`. */
export async function standInWithSandbox(sandboxName: string, key: string): Promise<StandInProcess> {
  const standIn = await StandInProcess.start();
  try {
    await standIn.putSandbox(sandboxName, key, [WORKER_BASELINE]);
  } catch (error) {
    await standIn.stop();
    throw error;
  }
  return standIn;
}

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/**
 * A client that carries the key the way other SDKs do, without our interceptor: Temporal's
 * OpenTelemetry interceptors (Python, Go, TypeScript) write `_tracer-data` with the W3C baggage on every
 * start, signal-with-start and update-with-start; `sd-routing-key` puts our dedicated header there.
 */
export function foreignClientHeaders(
  carrier: '_tracer-data' | 'sd-routing-key',
  value: string,
): WorkflowClientInterceptor {
  const payload =
    carrier === '_tracer-data'
      ? defaultPayloadConverter.toPayload({ traceparent: TRACEPARENT, baggage: value })
      : defaultPayloadConverter.toPayload(value);
  const header: Record<string, Payload> = { [carrier]: payload };
  return {
    startWithDetails: (input, next) => next({ ...input, headers: { ...input.headers, ...header } }),
    signalWithStart: (input, next) => next({ ...input, headers: { ...input.headers, ...header } }),
    startUpdateWithStart: (input, next) =>
      next({ ...input, workflowStartHeaders: { ...input.workflowStartHeaders, ...header } }),
  };
}
