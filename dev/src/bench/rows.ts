import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runWithRoutingKey, sandboxTaskQueue, silentLogger } from '@sandbox-routing/core';
import type { load } from '@sandbox-routing/producer';
import { workflowIdOfEvent } from '@sandbox-routing/sample';
import { startRouteTable } from '@sandbox-routing/service-kit';
import { RoutingClientInterceptor } from '@sandbox-routing/temporal';
import { pollUntil, type StackEnv } from '@sandbox-routing/testkit';
import { Client, Connection } from '@temporalio/client';
import { Pipeline } from '../pipeline/pipeline';
import { REPO_ROOT, STACK_DIR } from '../stack/paths';
import { type HistoryStats, historyStats } from './history-stats';
import { runLoadCli } from './load-cli';
import { type EventTiming, type StepResult, stepResult } from './steps';
import { driveTemporal, type StartWorkflow, terminateOpen } from './temporal-driver';

/** A benchmark row: one way of getting events to the right worker, measured on the rate ladder. */
export interface RowReport {
  key: 'floor' | 'door' | 'redirect' | 'skip-retry' | 'pipeline';
  name: string;
  how: string;
  steps: StepResult[];
  /** The pipeline's load reports per step (where the time goes). */
  loadReports?: load.LoadReport[];
}

export interface Ladder {
  rates: number[];
  stepMs: number;
  drainMs: number;
  log: (line: string) => void;
}

const SANDBOX = 'bench-pr';
const KEY = `bench${randomUUID().slice(0, 6)}key`;

/** Requests the stand-in has answered: HTTP routing-rules GETs and gRPC calls (a watch counts once). */
async function routeserverRequests(stack: StackEnv): Promise<number> {
  const response = await fetch(`${stack.SIGNADOT_ROUTESERVER_URL}/admin/requests`);
  const { activeWatches: _open, ...counts } = (await response.json()) as Record<string, number>;
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

function stepLine(row: string, step: StepResult): string {
  const l = step.latency;
  return `${row.padEnd(12)} ${String(step.rate).padStart(4)}/s  sent ${step.sent}  done ${step.completed}  ${step.throughput}/s  p50 ${l.baseline.p50}/${l.sandbox.p50} ms  p99 ${l.baseline.p99}/${l.sandbox.p99} ms  WFT fail ${step.workflowTaskFailures}/1k  extra WFT ${step.extraWorkflowTaskAttempts}/1k  act ${step.activityAttemptsPerEvent}/event  rs ${step.routeserverPer1k}/1k  ${step.verdict}`;
}

/** Adds a step's history and routeserver figures (per 1,000 events, per event, per minute). */
function addCounts(step: StepResult, stats: HistoryStats, requests: number, minutes: number): void {
  const perK = (n: number) => Math.round((n * 1000 * 10) / Math.max(1, stats.workflows)) / 10;
  step.workflowTaskFailures = perK(stats.workflowTaskFailures);
  step.extraWorkflowTaskAttempts = perK(stats.extraWorkflowTaskAttempts);
  step.activityAttemptsPerEvent =
    Math.round((stats.activityAttempts / Math.max(1, stats.workflows)) * 100) / 100;
  step.routeserverPer1k = Math.round((requests * 1000) / Math.max(1, step.sent));
  step.routeserverPerMinute = Math.round(requests / minutes);
}

/** The bench's own worker process (plain or skip-and-retry), ready once it prints `ready`. */
async function benchWorker(args: string[], stack: StackEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dev/dist/bench/bench-worker.js'), ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await pollUntil(() => output.includes('ready'), {
    description: `bench worker ${args.join(' ')}`,
    timeoutMs: 120_000,
    abortIf: () => {
      if (child.exitCode !== null) throw new Error(`bench worker exited ${child.exitCode}: ${output}`);
    },
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/** Runs the ladder with `start`, measuring each step's histories and routeserver requests. */
async function temporalLadder(
  row: Pick<RowReport, 'key' | 'name' | 'how'>,
  client: Client,
  start: StartWorkflow,
  stack: StackEnv,
  ladder: Ladder,
): Promise<RowReport> {
  const steps: StepResult[] = [];
  for (const rate of ladder.rates) {
    const requestsBefore = await routeserverRequests(stack);
    const began = Date.now();
    const drive = await driveTemporal({
      rate,
      durationMs: ladder.stepMs,
      drainMs: ladder.drainMs,
      idPrefix: `bench-${row.key}-${rate}-${randomUUID().slice(0, 6)}`,
      start,
      client,
    });
    const requests = (await routeserverRequests(stack)) - requestsBefore;
    const minutes = (Date.now() - began) / 60_000;
    await terminateOpen(client, drive.open);
    const step = stepResult(rate, ladder.stepMs, drive.timings);
    step.maxInFlight = drive.maxInFlight;
    addCounts(step, await historyStats(client, drive.workflowIds), requests, minutes);
    ladder.log(stepLine(row.key, step));
    steps.push(step);
    if (!step.sustained) break;
  }
  return { ...row, steps };
}

/** No routing: two plain workers (no interceptors) on one queue, a plain client. The floor. */
export async function floorRow(stack: StackEnv, ladder: Ladder): Promise<RowReport> {
  const queue = `bench-floor-${randomUUID().slice(0, 6)}`;
  const workers = await Promise.all(
    ['baseline', SANDBOX].map((instance) =>
      benchWorker(['--mode', 'plain', '--queue', queue, '--instance', instance], stack),
    ),
  );
  const connection = await Connection.connect({ address: stack.TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  try {
    return await temporalLadder(
      {
        key: 'floor',
        name: 'no routing (floor)',
        how: 'plain client → one shared queue → 2 plain workers, no interceptors',
      },
      client,
      (event, workflowId) =>
        client.workflow.start('processOrder', { taskQueue: queue, workflowId, args: [event] }),
      stack,
      ladder,
    );
  } finally {
    await Promise.all(workers.map(stopChild));
    await connection.close();
  }
}

/**
 * Door routing and redirect, on the real worker processes (baseline and a sandbox that forks the
 * worker; trail off, like the floor): a client with the door interceptor starts each workflow on its
 * owner's queue; a client without it starts everything on the shared queue and the baseline worker's
 * first task redirects the sandbox's.
 */
export async function doorAndRedirectRows(stack: StackEnv, ladder: Ladder): Promise<RowReport[]> {
  const pipeline = await Pipeline.isolated(
    stack,
    path.join(STACK_DIR, 'logs', `bench-routing-${randomUUID().slice(0, 6)}`),
    {
      LOG_LEVEL: 'warn',
      TRAIL_ENABLED: 'false',
      OTEL_TRACES_EXPORTER: 'none',
    },
  );
  await pipeline.registerSandbox(SANDBOX, KEY, ['worker']);
  const routeTable = startRouteTable(
    {
      url: stack.SIGNADOT_ROUTESERVER_URL,
      grpcAddress: stack.SIGNADOT_ROUTESERVER_GRPC_ADDRESS,
      refreshIntervalMs: 2000,
      requestTimeoutMs: 1000,
      firstSyncTimeoutMs: 10_000,
      unknownKeyRefetchIntervalMs: 500,
      neverSyncedPolicy: 'default',
    },
    { kind: 'Deployment', namespace: pipeline.namespace, name: pipeline.workerBaseline },
    silentLogger,
  );
  const connection = await Connection.connect({ address: stack.TEMPORAL_ADDRESS });
  try {
    await Promise.all([pipeline.startWorker(), pipeline.startWorker(SANDBOX)]);
    const start =
      (client: Client): StartWorkflow =>
      (event, workflowId, owner) => {
        const go = () =>
          client.workflow.start('processOrder', { taskQueue: pipeline.taskQueue, workflowId, args: [event] });
        return owner === 'sandbox' ? runWithRoutingKey(KEY, go) : go();
      };
    const door = new Client({
      connection,
      interceptors: {
        workflow: [
          new RoutingClientInterceptor({ doorRouting: { routeTable, sharedQueue: pipeline.taskQueue } }),
        ],
      },
    });
    const plain = new Client({ connection, interceptors: { workflow: [new RoutingClientInterceptor()] } });
    const doorRow = await temporalLadder(
      {
        key: 'door',
        name: 'door routing',
        how: `client with the door interceptor → owner's queue (${pipeline.taskQueue} or ${sandboxTaskQueue(pipeline.taskQueue, SANDBOX)}) → routing workers`,
      },
      door,
      start(door),
      stack,
      ladder,
    );
    const redirectRow = await temporalLadder(
      {
        key: 'redirect',
        name: 'redirect only',
        how: "client without door routing → shared queue; the baseline worker's first task redirects the sandbox's (continue-as-new)",
      },
      plain,
      start(plain),
      stack,
      ladder,
    );
    return [doorRow, redirectRow];
  } finally {
    await pipeline.stop();
    await pipeline.deleteSandbox(SANDBOX);
    await routeTable.stop();
    await connection.close();
  }
}

/** Skip-and-retry as the Python tutorial: both workers poll the shared queue and fail what is not theirs. */
export async function skipRetryRow(stack: StackEnv, ladder: Ladder): Promise<RowReport> {
  const queue = `bench-skip-${randomUUID().slice(0, 6)}`;
  const workers = await Promise.all([
    benchWorker(['--mode', 'skip-retry', '--queue', queue, '--instance', 'baseline', '--keys', KEY], stack),
    benchWorker(['--mode', 'skip-retry', '--queue', queue, '--instance', SANDBOX, '--keys', KEY], stack),
  ]);
  const connection = await Connection.connect({ address: stack.TEMPORAL_ADDRESS });
  const client = new Client({ connection, interceptors: { workflow: [new RoutingClientInterceptor()] } });
  try {
    return await temporalLadder(
      {
        key: 'skip-retry',
        name: 'skip-and-retry',
        how: 'client → shared queue; both workers poll it and fail workflow tasks and activity attempts whose key is not theirs',
      },
      client,
      (event, workflowId, owner) => {
        const go = () =>
          client.workflow.start('processOrder', { taskQueue: queue, workflowId, args: [event] });
        return owner === 'sandbox' ? runWithRoutingKey(KEY, go) : go();
      },
      stack,
      ladder,
    );
  } finally {
    await Promise.all(workers.map(stopChild));
    await connection.close();
  }
}

/** Timings of a load report's events, from its per-owner timelines (bucket medians stand in for events). */
function timingsOfReport(report: load.LoadReport): EventTiming[] {
  const timings: EventTiming[] = [];
  report.owners.forEach((owner, index) => {
    for (const bucket of owner.timeline) {
      for (let i = 0; i < bucket.completed; i++) {
        timings.push({
          owner: index === 0 ? 'baseline' : 'sandbox',
          sentAtMs: bucket.startS * 1000,
          latencyMs: bucket.p50,
        });
      }
      for (let i = 0; i < bucket.notCompleted; i++) {
        timings.push({
          owner: index === 0 ? 'baseline' : 'sandbox',
          sentAtMs: bucket.startS * 1000,
          latencyMs: null,
        });
      }
    }
  });
  return timings;
}

/**
 * The whole pipeline: `producer load` (baseline and a sandbox that forks the worker) → Kafka → the
 * baseline ingress (door routing) → the routing workers, outcomes from the trail records.
 */
export async function pipelineRow(stack: StackEnv, ladder: Ladder): Promise<RowReport> {
  const pipeline = await Pipeline.isolated(
    stack,
    path.join(STACK_DIR, 'logs', `bench-pipeline-${randomUUID().slice(0, 6)}`),
    {
      LOG_LEVEL: 'warn',
      // The services' default (the stack's Jaeger would otherwise receive every span): the other rows
      // export none either; `npm run bench:latency` measures tracing's cost. The trail stays on (default).
      OTEL_TRACES_EXPORTER: 'none',
    },
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-load-'));
  await pipeline.registerSandbox(SANDBOX, KEY, ['worker']);
  try {
    await Promise.all([pipeline.startWorker(), pipeline.startWorker(SANDBOX), pipeline.startIngress()]);
    const steps: StepResult[] = [];
    const reports: load.LoadReport[] = [];
    for (const rate of ladder.rates) {
      const requestsBefore = await routeserverRequests(stack);
      const began = Date.now();
      const run = await runLoadCli(
        pipeline,
        stack,
        [
          '--baseline',
          '--sandbox',
          SANDBOX,
          '--rate',
          String(rate / 2),
          '--duration',
          `${ladder.stepMs}ms`,
          '--drain-timeout',
          `${ladder.drainMs}ms`,
          '--quiet',
        ],
        path.join(dir, `load-${rate}.json`),
        ladder.stepMs + ladder.drainMs + 120_000,
      );
      const requests = (await routeserverRequests(stack)) - requestsBefore;
      const report = run.report;
      if (!report) throw new Error(`producer load wrote no report (exit ${run.code}): ${run.stderr}`);
      reports.push(report);
      const step = stepResult(rate, ladder.stepMs, timingsOfReport(report), report.overall.completedRate);
      const owner = (name: string) => report.owners.find((o) => o.name === name)?.latencyMs;
      const latency = (l: load.LatencySummary | undefined) => ({
        p50: l?.p50 ?? null,
        p99: l?.p99 ?? null,
        max: l?.max ?? null,
      });
      step.latency = {
        baseline: latency(owner('baseline')),
        sandbox: latency(owner(SANDBOX)),
        all: latency(report.overall.latencyMs),
      };
      step.completed = report.overall.completed;
      step.lost = report.overall.unfinished + report.overall.deadLettered;
      if (report.overall.misrouted > 0 || report.overall.duplicates > 0) {
        step.sustained = false;
        step.verdict = `${report.overall.misrouted} misrouted, ${report.overall.duplicates} duplicates`;
      }
      const ids = report.owners.flatMap((_, index) =>
        Array.from({ length: report.plan.eventsPerOwner }, (__, seq) =>
          workflowIdOfEvent(`${report.idPrefix}${index}-${seq + 1}`),
        ),
      );
      addCounts(step, await historyStats(pipeline.temporal(), ids), requests, (Date.now() - began) / 60_000);
      ladder.log(stepLine('pipeline', step));
      steps.push(step);
      if (!step.sustained) break;
    }
    return {
      key: 'pipeline',
      name: 'pipeline (door routing through Kafka)',
      how: "producer load → Kafka → baseline ingress (starts on the owner's queue) → routing workers; trail records",
      steps,
      loadReports: reports,
    };
  } finally {
    await pipeline.stop();
    await pipeline.deleteSandbox(SANDBOX);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The highest sustained step of a row (the last one the ladder kept up at). */
export function bestStep(
  row: RowReport,
  extra: (step: StepResult) => boolean = () => true,
): StepResult | undefined {
  return [...row.steps].reverse().find((step) => step.sustained && extra(step));
}
