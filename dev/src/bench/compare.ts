/**
 * `npm run bench`: one run on the local stack comparing the ways of getting work to the right worker,
 * on the same event mix and rate ladder (see BENCHMARKS.md, which it writes, with docs/bench.svg):
 * no routing (the floor), door routing, redirect only, skip-and-retry (the Python tutorial's way),
 * the whole pipeline through Kafka and the ingress, and Kafka alone; plus the ingress's start rate
 * against a plain client's and the worker's start-up with and without the prebuilt bundle. Prints as
 * it goes; asserts nothing (goals are reported, met or not).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { REPO_ROOT, TOOLS_DIR } from '../stack/paths';
import { down, isUp, up } from '../stack/stack';
import { type BenchResults, benchChart, benchmarksMarkdown, mainTable } from './benchmarks-md';
import { measureCrossWorkload } from './cross-workload';
import { measureStartRate } from './ingress-rate';
import { kafkaPerf } from './kafka-perf';
import {
  doorAndRedirectRows,
  floorRow,
  type Ladder,
  pipelineRow,
  type RowReport,
  skipRetryRow,
} from './rows';
import { runBench } from './run';
import { measureStartup } from './worker-startup';

interface Options {
  render?: string;
  reuse?: string;
  rates: string;
  step: number;
  drain: number;
  rows: string;
  startEvents: number;
  startRounds: number;
  startupRuns: number;
  crossWorkflows: number;
  write: boolean;
}

function machine(): string[] {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  const temporal = (() => {
    try {
      return execFileSync(path.join(TOOLS_DIR, 'bin', 'temporal'), ['--version'], {
        encoding: 'utf8',
      }).trim();
    } catch {
      return 'temporal CLI (version unknown)';
    }
  })();
  const load = os.loadavg().map((l) => l.toFixed(1));
  return [
    `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB memory, ${os.type()} ${os.release()}`,
    `Node ${process.version}; Apache Kafka 4.1.1 (one KRaft broker, heap 512 MiB); ${temporal} (SQLite)`,
    `load average when the run began: ${load.join(', ')} (the machine is shared: other work ran at the same time)`,
  ];
}

/** Writes BENCHMARKS.md and the chart from a run's raw results. */
function write(results: BenchResults): void {
  writeFileSync(path.join(REPO_ROOT, 'BENCHMARKS.md'), benchmarksMarkdown(results));
  writeFileSync(path.join(REPO_ROOT, 'docs', 'bench.svg'), benchChart(results.rows));
}

async function main(options: Options): Promise<void> {
  if (options.render) {
    write(JSON.parse(readFileSync(options.render, 'utf8')) as BenchResults);
    console.log(`wrote BENCHMARKS.md, docs/bench.svg from ${options.render}`);
    return;
  }
  const startedStack = !isUp();
  const stack = await up();
  const env = {
    KAFKA_BROKERS: stack.KAFKA_BROKERS ?? '',
    TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS ?? '',
    TEMPORAL_UI_URL: stack.TEMPORAL_UI_URL ?? '',
    SIGNADOT_ROUTESERVER_URL: stack.SIGNADOT_ROUTESERVER_URL ?? '',
    SIGNADOT_ROUTESERVER_GRPC_ADDRESS: stack.SIGNADOT_ROUTESERVER_GRPC_ADDRESS ?? '',
  };
  const ladder: Ladder = {
    rates: options.rates.split(',').map(Number),
    stepMs: options.step * 1000,
    drainMs: options.drain * 1000,
    log: (line) => console.log(line),
  };
  const wanted = new Set(options.rows.split(','));
  const reused = options.reuse
    ? (JSON.parse(readFileSync(options.reuse, 'utf8')) as BenchResults)
    : undefined;
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    machine: machine(),
    commands: [
      `npm run bench -- --rates ${options.rates} --step ${options.step} --drain ${options.drain}   # this file and docs/bench.svg`,
      'npm run bench:startup   # the start-up table alone',
      'npm run kafka -- producer-perf-test --topic <t> --num-records 50000 --record-size 250 --throughput -1 --producer-props bootstrap.servers=<broker> acks=all',
    ],
    ladder: { rates: ladder.rates, stepS: options.step, drainS: options.drain },
    rows: [],
    kafka: null,
    startRate: null,
    startup: null,
    crossWorkload: null,
    notes: [],
  };
  try {
    const rows: RowReport[] = [];
    // First, on the stack as it starts: the ingress side reads Kafka and the plain client does not, so a
    // broker still busy with what the Kafka row wrote would weigh on one side of the comparison only.
    if (wanted.has('starts')) {
      results.startRate = await measureStartRate(env, {
        events: options.startEvents,
        clientConcurrency: 32,
        rounds: options.startRounds,
      });
      console.log(`start rate: ${JSON.stringify(results.startRate)}`);
    }
    if (wanted.has('floor')) rows.push(await floorRow(env, ladder));
    if (wanted.has('door') || wanted.has('redirect')) {
      rows.push(...(await doorAndRedirectRows(env, ladder)).filter((r) => wanted.has(r.key)));
    }
    if (wanted.has('skip-retry')) rows.push(await skipRetryRow(env, ladder));
    if (wanted.has('pipeline')) rows.push(await pipelineRow(env, ladder));
    results.rows = rows;
    if (wanted.has('kafka')) {
      const top = Math.max(...ladder.rates);
      results.kafka = await kafkaPerf(env.KAFKA_BROKERS, { records: 50_000, recordSize: 250, rate: top });
      console.log(`kafka alone: ${JSON.stringify(results.kafka)}`);
    }
    if (wanted.has('startup')) results.startup = await measureStartup(env, options.startupRuns);
    if (wanted.has('cross')) {
      results.crossWorkload = await measureCrossWorkload(env.TEMPORAL_ADDRESS, options.crossWorkflows);
      console.log(`activity on another workload's queue: ${JSON.stringify(results.crossWorkload)}`);
    }
    results.finishedAt = new Date().toISOString();
    if (reused) {
      // Sections not run now come from the earlier run, said so in the file.
      const now = `${results.startedAt} → ${results.finishedAt}`;
      if (results.rows.length === 0) results.rows = reused.rows;
      if (!results.kafka && reused.kafka) results.kafka = reused.kafka;
      if (!results.startRate && reused.startRate) results.startRate = reused.startRate;
      if (!results.startup && reused.startup) results.startup = reused.startup;
      if (!results.crossWorkload && reused.crossWorkload) results.crossWorkload = reused.crossWorkload;
      results.notes = [
        ...(reused.notes ?? []),
        `${[...wanted].join(', ')} measured again at ${now}; everything else from the run of ${reused.startedAt} → ${reused.finishedAt}`,
      ];
      results.startedAt = reused.startedAt;
      results.machine = reused.machine;
      results.ladder = reused.ladder;
    }
    console.log(`\n${mainTable(results)}\n`);
    if (options.write) {
      write(results);
      writeFileSync(
        path.join(REPO_ROOT, '.stack', 'bench-results.json'),
        `${JSON.stringify(results, null, 2)}\n`,
      );
      console.log('wrote BENCHMARKS.md, docs/bench.svg (raw numbers: .stack/bench-results.json)');
    }
  } finally {
    if (startedStack) await down();
  }
}

runBench(
  new Command()
    .name('bench')
    .option('--rates <list>', 'offered events/s, ascending (both owners together)', '5,10,20,40,80,160')
    .option('--step <s>', 'seconds per step', (v) => Number(v), 20)
    .option('--drain <s>', 'seconds to wait for stragglers after a step', (v) => Number(v), 30)
    .option(
      '--rows <list>',
      'what to run',
      'floor,door,redirect,skip-retry,pipeline,kafka,starts,startup,cross',
    )
    .option(
      '--cross-workflows <n>',
      "workflows per variant in the comparison of an activity on another workload's queue with one on its own",
      (v) => Number(v),
      100,
    )
    .option(
      '--start-events <n>',
      'workflows each side starts in the start-rate comparison',
      (v) => Number(v),
      1000,
    )
    .option(
      '--start-rounds <n>',
      'rounds of the start-rate comparison (each side once a round; the ratio is their median)',
      (v) => Number(v),
      5,
    )
    .option('--startup-runs <n>', 'worker starts per variant in the start-up comparison', (v) => Number(v), 3)
    .option('--no-write', 'print only; leave BENCHMARKS.md and docs/bench.svg alone')
    .option('--render <results.json>', 'only write BENCHMARKS.md and the chart from the raw results of a run')
    .option(
      '--reuse <results.json>',
      'take what --rows does not run from the raw results of an earlier run (noted in the file)',
    )
    .action((options: Options) => main(options)),
);
