/**
 * `npm run bench:imports`: what importing each entry point of the library costs a fresh process, the
 * time `require` takes and the process's resident memory afterwards, as the median of several runs
 * (each in its own `node`). The goal for the routing core is under 80 ms and 60 MB: a client that only
 * reads the key must not pay for Temporal's native core, Kafka, an HTTP server or gRPC.
 *
 *   node dev/dist/bench/import-cost.js [--runs 7]
 */
import { execFileSync } from 'node:child_process';
import { Command } from 'commander';
import { REPO_ROOT } from '../stack/paths';

const ENTRIES: { entry: string; what: string }[] = [
  { entry: '@sandbox-routing/core', what: 'key codec, route table and watch, ownership, application' },
  { entry: '@sandbox-routing/core/workflow', what: 'what workflow code may import' },
  { entry: '@sandbox-routing/kafka', what: 'the kafkajs bridge and consumer restarts' },
  { entry: '@sandbox-routing/temporal', what: 'plugin and interceptors (loads the Temporal SDK)' },
  { entry: '@sandbox-routing/trail', what: 'trail records, emitter, reader' },
  { entry: '@sandbox-routing/service-kit', what: 'config, logs, metrics, health' },
];
/** Everything at once: what the single `@sandbox-routing/shared` package cost before the split. */
const EVERYTHING = ENTRIES.map((e) => e.entry);

interface Cost {
  ms: number;
  rssMb: number;
}

/** One fresh process: require the entries, print the time it took and the resident memory after. */
function measure(entries: readonly string[]): Cost {
  const script = `const t=process.hrtime.bigint();${entries
    .map((e) => `require(${JSON.stringify(e)});`)
    .join(
      '',
    )}const ms=Number(process.hrtime.bigint()-t)/1e6;process.stdout.write(JSON.stringify({ms,rssMb:process.memoryUsage().rss/1048576}))`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8' }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function main(): void {
  const { runs } = new Command('bench:imports')
    .option('--runs <n>', 'processes per entry point (median reported)', (v) => Number.parseInt(v, 10), 7)
    .parse()
    .opts<{ runs: number }>();
  const empty = median(Array.from({ length: runs }, () => measure([]).rssMb));
  console.log(
    `import cost, median of ${runs} fresh processes each (node ${process.version}; an empty process: ${empty.toFixed(0)} MB)\n`,
  );
  const rows = [...ENTRIES, { entry: 'all of the above', what: 'what one package used to load' }].map(
    ({ entry, what }) => {
      const costs = Array.from({ length: runs }, () =>
        measure(entry === 'all of the above' ? EVERYTHING : [entry]),
      );
      return { entry, what, ms: median(costs.map((c) => c.ms)), rssMb: median(costs.map((c) => c.rssMb)) };
    },
  );
  const width = Math.max(...rows.map((r) => r.entry.length));
  console.log(`${'entry point'.padEnd(width)}  ${'require'.padStart(8)}  ${'RSS'.padStart(7)}  what`);
  for (const r of rows) {
    console.log(
      `${r.entry.padEnd(width)}  ${`${r.ms.toFixed(0)} ms`.padStart(8)}  ${`${r.rssMb.toFixed(0)} MB`.padStart(7)}  ${r.what}`,
    );
  }
  const core = rows[0] as (typeof rows)[number];
  const met = core.ms < 80 && core.rssMb < 60;
  console.log(
    `\ncore: ${core.ms.toFixed(0)} ms, ${core.rssMb.toFixed(0)} MB (goal: under 80 ms and 60 MB): ${met ? 'met' : 'not met'}`,
  );
}

main();
