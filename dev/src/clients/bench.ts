/**
 * Benchmark: start → complete latency of workflows started by foreign clients (Python SDK with its
 * TracingInterceptor, Go SDK with its OpenTelemetry interceptor) on the shared queue, per case, with a
 * sandbox key (redirected by the first-task check) and with a key no sandbox owns (checked, stays).
 * Prints numbers; asserts nothing. Needs the local stack (`npm run stack -- up`) and dev/bin/setup.sh.
 *
 *   npm run bench:clients -- [--runs 20] [--go-runs 10]
 */

import { stackEnv } from '@sandbox-routing/testkit';
import { Command, InvalidArgumentError } from 'commander';
import { type ClientCase, GO_CASES, PYTHON_CASES, runForeignClient, WorkerPair } from './foreign-clients';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

interface Row {
  client: string;
  case: ClientCase;
  key: string;
  runs: number;
  p50: number;
  p99: number;
  wrongOwner: number;
}

async function main(): Promise<void> {
  const options = new Command('bench:clients')
    .option('--runs <n>', 'runs of each Python case', positive, 20)
    .option('--go-runs <n>', 'runs of each Go case', positive, 10)
    .parse()
    .opts<{ runs: number; goRuns: number }>();
  const env = stackEnv();
  const workers = new WorkerPair(
    env.TEMPORAL_ADDRESS,
    env.SIGNADOT_ROUTESERVER_URL,
    env.SIGNADOT_ROUTESERVER_GRPC_ADDRESS,
  );
  await workers.start();
  const rows: Row[] = [];
  try {
    const plan: [language: 'python' | 'go', cases: readonly ClientCase[], runs: number][] = [
      ['python', PYTHON_CASES, options.runs],
      ['go', GO_CASES, options.goRuns],
    ];
    for (const [language, cases, runs] of plan) {
      for (const clientCase of cases) {
        for (const [keyKind, key, owner] of [
          ['sandbox', workers.key, workers.sandbox],
          ['unknown', `nobody${Date.now()}`, 'baseline'],
        ] as const) {
          const results = await runForeignClient(language, env.TEMPORAL_ADDRESS, {
            taskQueue: workers.sharedQueue,
            key,
            case: clientCase,
            repeat: runs,
            timeoutMs: 30_000 + runs * 10_000,
          });
          const times = results.map((r) => r.startToCompleteMs).sort((a, b) => a - b);
          rows.push({
            client: language,
            case: clientCase,
            key: keyKind,
            runs: results.length,
            p50: percentile(times, 50),
            p99: percentile(times, 99),
            wrongOwner: results.filter((r) => r.result.workflow.instance !== owner).length,
          });
          const last = rows.at(-1);
          console.error(`[bench] ${language} ${clientCase} ${keyKind}: p50 ${last?.p50} ms`);
        }
      }
    }
  } finally {
    await workers.stop();
  }
  console.log('| client | case | key | runs | start→complete p50 | p99 | on the wrong owner |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.client} | ${r.case} | ${r.key} | ${r.runs} | ${Math.round(r.p50)} ms | ${Math.round(r.p99)} ms | ${r.wrongOwner} |`,
    );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
