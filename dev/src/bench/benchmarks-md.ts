import { load } from '@sandbox-routing/producer';
import type { CrossWorkload } from './cross-workload';
import type { StartRate } from './ingress-rate';
import type { KafkaPerf } from './kafka-perf';
import { bestStep, type RowReport } from './rows';
import type { OwnerLatency, StepResult } from './steps';
import { type StartupRow, startupTable } from './worker-startup';

/** Everything one `npm run bench` measured. */
export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  machine: string[];
  commands: string[];
  ladder: { rates: number[]; stepS: number; drainS: number };
  rows: RowReport[];
  kafka: KafkaPerf | null;
  startRate: StartRate | null;
  startup: StartupRow[] | null;
  /** An activity on another workload's queue against one on the workflow's own (absent in older runs). */
  crossWorkload?: CrossWorkload | null;
  /** Where parts of the file come from other runs (`--reuse`). */
  notes?: string[];
}

/** The latency goal the pipeline's rate is judged by. */
export const P99_GOAL_MS = 1000;

const ms = (v: number | null) => (v === null ? '–' : `${v}`);
const pair = (a: OwnerLatency, b: OwnerLatency, key: 'p50' | 'p99') => `${ms(a[key])} / ${ms(b[key])}`;
const ratio = (value: number, floor: number | undefined) => (floor ? `${(value / floor).toFixed(2)}×` : '–');

/** The step latencies are compared at: the highest rate every Temporal row sustained. */
function referenceRate(rows: readonly RowReport[]): number | undefined {
  const sustained = rows.map((row) => new Set(row.steps.filter((s) => s.sustained).map((s) => s.rate)));
  const rates = rows[0]?.steps.map((s) => s.rate) ?? [];
  return [...rates].reverse().find((rate) => sustained.every((set) => set.has(rate)));
}

function stepAt(row: RowReport, rate: number | undefined): StepResult | undefined {
  return rate === undefined ? undefined : row.steps.find((s) => s.rate === rate);
}

/** The main table: one line per row, ratios against the floor. */
export function mainTable(results: BenchResults): string {
  const floor = results.rows.find((r) => r.key === 'floor');
  const floorBest = floor ? bestStep(floor) : undefined;
  const reference = referenceRate(results.rows.filter((r) => r.key !== 'skip-retry'));
  const at = reference === undefined ? 'at the first step' : `at ${reference}/s`;
  const lines = [
    `| path | sustained rate | × floor | p50 baseline / sandbox (ms) ${at} | p99 baseline / sandbox (ms) ${at} | p99 × floor | WFT failures / 1k | extra WFT attempts / 1k | activity attempts / event | routeserver req / 1k events |`,
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const floorRef = floor ? stepAt(floor, reference) : undefined;
  for (const row of results.rows) {
    const best = bestStep(row);
    const at = stepAt(row, reference) ?? row.steps[0];
    const worst = (pick: (s: StepResult) => number | null) =>
      Math.max(0, ...row.steps.map((s) => pick(s) ?? 0));
    const rate = best ? `${best.rate}/s (${best.throughput}/s done)` : `< ${row.steps[0]?.rate ?? '?'}/s`;
    const p99 = at?.latency.all.p99 ?? null;
    lines.push(
      `| ${row.name} | ${rate} | ${best && floorBest ? ratio(best.rate, floorBest.rate) : '–'} | ${at ? pair(at.latency.baseline, at.latency.sandbox, 'p50') : '–'} | ${at ? pair(at.latency.baseline, at.latency.sandbox, 'p99') : '–'} | ${p99 !== null && floorRef?.latency.all.p99 ? ratio(p99, floorRef.latency.all.p99) : '–'} | ${worst((s) => s.workflowTaskFailures)} | ${worst((s) => s.extraWorkflowTaskAttempts)} | ${at?.activityAttemptsPerEvent ?? '–'} | ${at?.routeserverPer1k ?? '–'} |`,
    );
  }
  const kafka = results.kafka;
  if (kafka) {
    lines.push(
      `| Kafka alone (ProducerPerformance, ${kafka.recordSize} B records, acks=all) | ${kafka.producerRecordsPerSecond}/s produced, ${kafka.consumerRecordsPerSecond}/s consumed | ${floorBest ? ratio(kafka.producerRecordsPerSecond, floorBest.rate) : '–'} | ${kafka.atRate.p50} (send, at ${kafka.atRate.rate}/s) | ${kafka.atRate.p99} (send, at ${kafka.atRate.rate}/s) | – | – | – | – | – |`,
    );
  }
  return lines.join('\n');
}

/** Every step of every row. */
export function stepTable(rows: readonly RowReport[]): string {
  const lines = [
    '| path | offered | sent | completed | throughput | p50 b / s (ms) | p99 b / s (ms) | max (ms) | most in flight | WFT failures / 1k | extra WFT / 1k | activity attempts / event | routeserver req / min | verdict |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    for (const s of row.steps) {
      lines.push(
        `| ${row.name} | ${s.rate}/s | ${s.sent} | ${s.completed} | ${s.throughput}/s | ${pair(s.latency.baseline, s.latency.sandbox, 'p50')} | ${pair(s.latency.baseline, s.latency.sandbox, 'p99')} | ${ms(s.latency.all.max)} | ${s.maxInFlight ?? '–'} | ${s.workflowTaskFailures ?? '–'} | ${s.extraWorkflowTaskAttempts ?? '–'} | ${s.activityAttemptsPerEvent ?? '–'} | ${s.routeserverPerMinute ?? '–'} | ${s.verdict} |`,
      );
    }
  }
  return lines.join('\n');
}

/** p99 against offered rate, and throughput against offered rate, one line per row. */
export function benchChart(rows: readonly RowReport[]): string {
  const series = (pick: (s: StepResult) => number | null) =>
    rows.map((row, i) => ({
      name: row.name,
      points: row.steps.map((s) => [s.rate, pick(s)] as const),
      color: load.PALETTE[i % load.PALETTE.length] as string,
      markers: true,
    }));
  const latency = load.lineChart({
    title: 'p99 latency (start or publish → completed) by offered rate',
    xLabel: 'offered events/s (half baseline, half sandbox)',
    yLabel: 'p99 latency (ms, log scale)',
    series: series((s) => s.latency.all.p99),
    logY: true,
    reference: { y: P99_GOAL_MS, label: 'p99 goal 1 s' },
    width: 960,
    height: 340,
  });
  const throughput = load.lineChart({
    title: 'completed events/s by offered rate',
    xLabel: 'offered events/s',
    yLabel: 'completed events/s',
    series: [
      ...series((s) => s.throughput),
      {
        name: 'offered',
        points: (rows[0]?.steps ?? []).map((s) => [s.rate, s.rate] as const),
        color: '#999',
        dashed: true,
      },
    ],
    width: 960,
    height: 340,
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="960" height="680" viewBox="0 0 960 680" role="img"><title>p99 latency and throughput by offered rate, per routing approach</title>${latency.replace('<svg ', '<svg x="0" y="0" ')}${throughput.replace('<svg ', '<svg x="0" y="340" ')}</svg>\n`;
}

function goals(results: BenchResults): string[] {
  const row = (key: RowReport['key']) => results.rows.find((r) => r.key === key);
  const floorBest = row('floor') ? bestStep(row('floor') as RowReport) : undefined;
  const lines: string[] = [];
  const check = (ok: boolean | undefined, text: string) =>
    lines.push(`- ${ok === undefined ? '–' : ok ? '✓' : '✗'} ${text}`);
  for (const key of ['door', 'redirect', 'pipeline'] as const) {
    const r = row(key);
    if (!r) continue;
    const sustained = r.steps.filter((s) => s.sustained);
    const clean = sustained.every(
      (s) => s.lost === 0 && (s.workflowTaskFailures ?? 0) === 0 && (s.extraWorkflowTaskAttempts ?? 0) === 0,
    );
    const beyond = r.steps.filter((s) => !s.sustained && (s.workflowTaskFailures ?? 0) > 0);
    const rates = sustained.map((s) => `${s.rate}/s`).join(', ') || 'none';
    const overload =
      beyond.length > 0
        ? `; beyond capacity (${beyond.map((s) => `${s.rate}/s: ${s.workflowTaskFailures}/1k`).join(', ')}) workflow tasks timed out on the overloaded workers (on its owner's own queue no worker picks a task that is not its own)`
        : '';
    check(
      sustained.length > 0 ? clean : undefined,
      `${r.name}: 0 lost, 0 workflow-task failures and 0 extra attempts at every sustained rate (${rates})${overload}`,
    );
  }
  const door = row('door');
  const doorBest = door ? bestStep(door) : undefined;
  if (doorBest && floorBest) {
    check(
      doorBest.rate >= 0.95 * floorBest.rate,
      `door routing sustains ${doorBest.rate}/s, ${(doorBest.rate / floorBest.rate).toFixed(2)}× the floor's ${floorBest.rate}/s (goal ≥ 0.95×)`,
    );
    const at = door?.steps.find((s) => s.rate === doorBest.rate);
    if (at?.latency.sandbox.p50 && at.latency.baseline.p50) {
      const r = at.latency.sandbox.p50 / at.latency.baseline.p50;
      check(
        r <= 1.1,
        `door routing, sandbox p50 / baseline p50 at ${at.rate}/s: ${r.toFixed(2)} (goal ≤ 1.1)`,
      );
    }
  }
  const skip = row('skip-retry');
  const reference = referenceRate(results.rows.filter((r) => r.key !== 'skip-retry'));
  if (skip && door) {
    const skipStep = stepAt(skip, reference) ?? skip.steps[0];
    const doorStep = stepAt(door, skipStep?.rate);
    if (skipStep?.latency.all.p99 && doorStep?.latency.all.p99) {
      lines.push(
        `- skip-and-retry p99 / door-routing p99 at ${skipStep.rate}/s: ${(skipStep.latency.all.p99 / doorStep.latency.all.p99).toFixed(1)}× (${skipStep.latency.all.p99} ms vs ${doorStep.latency.all.p99} ms; at most ${skipStep.maxInFlight} starts in flight)`,
      );
    }
  }
  const perMinute = (door?.steps ?? []).map((s) => s.routeserverPerMinute ?? 0);
  if (perMinute.length > 1) {
    check(
      Math.max(...perMinute) <= 2 * Math.max(1, Math.min(...perMinute)) + 30,
      `routeserver requests per minute as the rate grows (door routing): ${perMinute.join(', ')}`,
    );
  }
  const pipeline = row('pipeline');
  const pipelineBest = pipeline
    ? bestStep(pipeline, (s) => (s.latency.all.p99 ?? Number.POSITIVE_INFINITY) < P99_GOAL_MS)
    : undefined;
  if (pipeline && floorBest) {
    check(
      pipelineBest !== undefined && pipelineBest.rate >= 0.9 * floorBest.rate,
      `the pipeline sustains ${pipelineBest ? `${pipelineBest.rate}/s` : 'no rate of the ladder'} with p99 under 1 s: ${pipelineBest ? (pipelineBest.rate / floorBest.rate).toFixed(2) : '0'}× the floor (goal ≥ 0.9×)`,
    );
  }
  if (results.crossWorkload) {
    const c = results.crossWorkload;
    check(
      c.ratio.p50 <= 1.1 && c.ratio.p99 <= 1.1 && c.misplaced === 0,
      `an activity on another workload's queue: p50 ${c.other.p50} ms / p99 ${c.other.p99} ms against ${c.own.p50} / ${c.own.p99} ms on the workflow's own queue, ${c.ratio.p50}× / ${c.ratio.p99}× (goal ≤ 1.1×), ${c.misplaced} misplaced`,
    );
  }
  if (results.startRate) {
    const s = results.startRate;
    check(
      s.ratio >= 0.9,
      `ingress start rate ${s.ingress}/s vs a plain client's ${s.plainClient}/s: ${s.ratio}× (goal ≥ 0.9×)`,
    );
  }
  return lines;
}

/** Where the pipeline's time goes at its best rate with p99 under the goal. */
function timeGoes(results: BenchResults): string {
  const pipeline = results.rows.find((r) => r.key === 'pipeline');
  if (!pipeline) return 'Not measured.';
  const underGoal = bestStep(pipeline, (s) => (s.latency.all.p99 ?? Number.POSITIVE_INFINITY) < P99_GOAL_MS);
  const best = underGoal ?? bestStep(pipeline);
  if (!best) return 'The pipeline sustained no rate of the ladder.';
  const report = pipeline.loadReports?.[pipeline.steps.indexOf(best)];
  const headline = underGoal
    ? `The pipeline sustains **${best.rate} events/s** (${best.throughput}/s completed) with p99 under 1 s on this machine.`
    : `The pipeline sustained no rate of the ladder with p99 under 1 s; its highest sustained rate was **${best.rate} events/s** (p99 ${best.latency.all.p99} ms).`;
  if (!report) return headline;
  const floorStep = stepAt(results.rows.find((r) => r.key === 'floor') as RowReport, best.rate);
  const lines = [
    `${headline} At that rate (p50 / p99, ms):`,
    '',
    '| owner | publish → ingress decided | publish → workflow started | started → completed | publish → completed |',
    '|---|---|---|---|---|',
    ...report.owners.map((o) => {
      const s = o.stagesMs;
      const cell = (l: load.LatencySummary) => (l.count === 0 ? 'not emitted' : `${l.p50} / ${l.p99}`);
      return `| ${o.name} | ${cell(s.publishToIngress)} | ${cell(s.publishToStarted)} | ${cell(s.startedToCompleted)} | ${o.latencyMs.p50} / ${o.latencyMs.p99} |`;
    }),
  ];
  if (floorStep) {
    lines.push(
      '',
      `For comparison, the worker side alone (the floor: start → completed through Temporal, no Kafka, no ingress) at ${best.rate}/s: p50 ${floorStep.latency.all.p50} ms, p99 ${floorStep.latency.all.p99} ms.`,
    );
  }
  return lines.join('\n');
}

/** BENCHMARKS.md: what was measured, how, on what, and the numbers. */
export function benchmarksMarkdown(results: BenchResults): string {
  const { ladder } = results;
  const s = results.startRate;
  return `# Benchmarks

Written by \`npm run bench\` (${results.startedAt} → ${results.finishedAt}); every number below comes from that run.
Re-run it to refresh this file and [docs/bench.svg](docs/bench.svg). Goals are checked here, never asserted on time in tests.

## Machine

${results.machine.map((line) => `- ${line}`).join('\n')}
${(results.notes ?? []).map((note) => `- ${note}`).join('\n')}

## How

- Every row runs the sample order domain (\`processOrder\`: three activities) on the local stack, with the same
  event mix (half the events for the baseline, half for one sandbox) and the same open-loop rate ladder:
  ${ladder.rates.map((r) => `${r}/s`).join(', ')}, ${ladder.stepS} s per step, up to ${ladder.drainS} s for stragglers. A row stops at its
  first step it cannot sustain.
- **Sustained** means the step kept up: nothing was lost by the end of the drain, the completions per second
  (those within the sending window shifted by the median latency) reached at least 75% of the offered rate, and
  neither owner's backlog grew (the median latency of its last quarter of events stayed within 2× + 500 ms of
  its first quarter's).
- Temporal rows time each workflow from the client's start call to the close time Temporal recorded (read with
  \`describe\` at a bounded concurrency: a long poll per open workflow would queue on the client's connection and
  add its own delay); the pipeline row from the publish to the \`workflow.completed\` trail record
  (\`producer load\`).
- Workflow-task failures are the WorkflowTaskFailed/TimedOut events in the histories; **extra workflow-task
  attempts** add up each WorkflowTaskScheduled event's \`attempt\` less one (a task that keeps failing shows one
  failure in history, its later attempts only in the attempt count). Activity attempts add up each
  ActivityTaskStarted event's \`attempt\` (3.00 per event means no retry). Every history of every step is read.
- The services run with their defaults: no span exported (\`OTEL_TRACES_EXPORTER=none\`; \`npm run bench:latency\`
  measures tracing's cost), the trail on where the row reads it (the pipeline), log level \`warn\`.
- Routeserver requests are counted by the stand-in during each step.

Commands:

\`\`\`sh
${results.commands.join('\n')}
\`\`\`

## Results

${mainTable(results)}

Latency columns are at the highest rate every row but skip-and-retry sustained (else at the first step); failure and attempt columns are the
worst step of the row.

![p99 and throughput by offered rate](docs/bench.svg)

### Goals

${goals(results).join('\n')}

### Where the time goes

${timeGoes(results)}

### The ingress against a plain client

${
  s
    ? `The same ${s.events} workflows (baseline events, a queue no worker polls), started against the same server in the same run (first, before the other rows load the stack): by the ingress from a backlog of events in its topic (3 partitions, \`INGRESS_PARTITIONS_CONCURRENTLY\` 3, \`INGRESS_MAX_IN_FLIGHT\` 32), **${s.ingress} starts/s**; by a plain Temporal client with ${s.clientConcurrency} starts in flight, **${s.plainClient} starts/s**. Ratio **${s.ratio}×** (median of ${s.rounds.length} rounds that alternate which side goes first, so that a busier moment of the shared machine does not decide it; each rate from the server's own start times). Rounds (ingress / client / ratio): ${s.rounds.map((r) => `${r.ingress} / ${r.plainClient} / ${r.ratio}`).join('; ')}.`
    : 'Not measured in this run.'
}

### An activity on another workload's queue

${
  results.crossWorkload
    ? `A one-activity workflow of the orders workload under a key whose sandbox forks only payments (another workload, declared in the application): its activity on the workflow's own queue (the orders baseline runs it) against the same activity on the payments queue, which the workflow sends to \`payments@<sandbox>\` on the first try. ${results.crossWorkload.workflows} workflows each, alternating, one at a time, start to result (ms):

| activity on | p50 | p99 |
|---|---|---|
| the workflow's own queue | ${results.crossWorkload.own.p50} | ${results.crossWorkload.own.p99} |
| another workload's queue (its fork) | ${results.crossWorkload.other.p50} | ${results.crossWorkload.other.p99} |
| ratio | ${results.crossWorkload.ratio.p50}× | ${results.crossWorkload.ratio.p99}× |`
    : 'Not measured in this run.'
}

### Every step

${stepTable(results.rows)}

## Forks that start fast

${
  results.startup
    ? `\`npm run bench:startup\`: a worker process from spawn to \`/readyz\` (median of 3), with the workflow code bundled at start (webpack, the dev path) and with the bundle the image ships (\`WORKER_WORKFLOW_BUNDLE\`). "CPU-limited" pins the worker to one core (\`taskset -c 0\`) and lets it run 25 ms of every 100 ms (SIGSTOP/SIGCONT by its PID), the way the kernel's CFS quota throttles a container at 250m, the worker's CPU request in k8s/. CPU time is what the process used until ready, which is what a quota divides.

${startupTable(results.startup)}`
    : 'Not measured in this run.'
}
`;
}
