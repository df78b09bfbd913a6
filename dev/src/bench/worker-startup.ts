import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, pollUntil } from '@sandbox-routing/testkit';
import { Command } from 'commander';
import { REPO_ROOT } from '../stack/paths';
import { down, isUp, up } from '../stack/stack';
import { runBench } from './run';

/**
 * Benchmark: how fast a worker (a sandbox's fork) becomes ready, with the workflow code bundled at
 * start (webpack, the dev path) and with the bundle built ahead of time (what the image ships): time
 * from spawn to /readyz, peak resident memory, and CPU time used until ready. Also under a CPU limit
 * like a pod's request (250m): one core (`taskset -c 0`) and a duty cycle that lets the process run
 * 25 ms of every 100 ms (SIGCONT/SIGSTOP by its PID), which is how the kernel's CFS quota throttles a
 * container. Prints numbers; asserts nothing.
 */

interface Sample {
  readyMs: number;
  peakRssMiB: number;
  cpuMs: number;
}

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on Linux everywhere that matters). */
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function procStats(pid: number): { peakRssMiB: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  // Fields 14 and 15 of /proc/<pid>/stat (after the command in parentheses): utime, stime.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { peakRssMiB: peakKiB / 1024, cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
}

/** Lets `child` run `share` of every 100 ms until stopped (SIGSTOP/SIGCONT by PID). */
function throttle(child: ChildProcess, share: number): () => void {
  const periodMs = 100;
  let stopTimer: NodeJS.Timeout | undefined;
  const timer = setInterval(() => {
    child.kill('SIGCONT');
    stopTimer = setTimeout(() => child.kill('SIGSTOP'), periodMs * share);
  }, periodMs);
  return () => {
    clearInterval(timer);
    clearTimeout(stopTimer);
    child.kill('SIGCONT');
  };
}

async function startOnce(
  stack: Record<string, string>,
  bundle: string | undefined,
  limited: boolean,
): Promise<Sample> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS ?? '',
    SIGNADOT_ROUTESERVER_URL: stack.SIGNADOT_ROUTESERVER_URL ?? '',
    KAFKA_BROKERS: stack.KAFKA_BROKERS ?? '',
    TEMPORAL_TASK_QUEUE: `startup-${randomUUID().slice(0, 8)}`,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    LOG_LEVEL: 'warn',
    ...(bundle ? { WORKER_WORKFLOW_BUNDLE: bundle } : {}),
  };
  const main = path.join(REPO_ROOT, 'worker/dist/main.js');
  const [command, args] = limited
    ? ['taskset', ['-c', '0', process.execPath, main]]
    : [process.execPath, [main]];
  const started = performance.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const release = limited ? throttle(child, 0.25) : () => undefined;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await pollUntil(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(500) })).ok,
      {
        description: 'the worker to be ready',
        timeoutMs: 180_000,
        intervalMs: 20,
        abortIf: () => {
          if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}: ${stderr}`);
        },
      },
    );
    const readyMs = performance.now() - started;
    release();
    return { readyMs, ...procStats(child.pid as number) };
  } finally {
    release();
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/** One row of the start-up table. */
export interface StartupRow {
  cpu: string;
  workflowCode: string;
  readyS: number;
  cpuMs: number;
  peakRssMiB: number;
}

/** Median start-up figures of the worker with and without the prebuilt bundle, free and CPU-limited. */
export async function measureStartup(stack: Record<string, string>, runs: number): Promise<StartupRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'worker-startup-'));
  try {
    const bundle = path.join(dir, 'workflows.js');
    const build = spawnSync(
      process.execPath,
      [path.join(REPO_ROOT, 'worker/dist/build-workflow-bundle.js'), bundle],
      {
        encoding: 'utf8',
      },
    );
    if (build.status !== 0) throw new Error(`building the bundle failed: ${build.stderr}`);
    const rows: StartupRow[] = [];
    for (const limited of [false, true]) {
      const samples: Record<'atStart' | 'prebuilt', Sample[]> = { atStart: [], prebuilt: [] };
      for (let i = 0; i < runs; i++) {
        // Alternate, so a busier moment of the machine does not favour one side.
        samples.atStart.push(await startOnce(stack, undefined, limited));
        samples.prebuilt.push(await startOnce(stack, bundle, limited));
      }
      for (const [name, list] of [
        ['bundled at start (webpack)', samples.atStart],
        ['prebuilt bundle', samples.prebuilt],
      ] as const) {
        rows.push({
          cpu: limited ? '1 core, 25% duty cycle (≈ 250m)' : 'unconstrained (2 cores)',
          workflowCode: name,
          readyS: Math.round(median(list.map((s) => s.readyMs)) / 10) / 100,
          cpuMs: Math.round(median(list.map((s) => s.cpuMs))),
          peakRssMiB: Math.round(median(list.map((s) => s.peakRssMiB))),
        });
      }
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The table as Markdown. */
export function startupTable(rows: readonly StartupRow[]): string {
  return [
    '| CPU | workflow code | start → ready | CPU time to ready | peak RSS |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.cpu} | ${r.workflowCode} | ${r.readyS.toFixed(2)} s | ${r.cpuMs} ms | ${r.peakRssMiB} MiB |`,
    ),
  ].join('\n');
}

async function main(options: { runs: number }): Promise<void> {
  const startedStack = !isUp();
  const stack = (await up()) as Record<string, string>;
  try {
    const rows = await measureStartup(stack, options.runs);
    console.log(`\nworker start → /readyz, median of ${options.runs} runs each\n`);
    console.log(startupTable(rows));
  } finally {
    if (startedStack) await down();
  }
}

if (require.main === module) {
  runBench(
    new Command()
      .name('bench-worker-startup')
      .option('--runs <n>', 'starts per variant and CPU setting', (v) => Number(v), 3)
      .action((options: { runs: number }) => main(options)),
  );
}
