import path from 'node:path';
import { instanceLabel } from '@sandbox-routing/shared';
import { Command } from 'commander';
import { type EventOutcome, Pipeline, stackEnvFrom } from '../pipeline/pipeline';
import { STACK_DIR } from '../stack/paths';
import { readSettings } from '../stack/settings';
import { down, isUp, up } from '../stack/stack';

/** Routing keys in Signadot's format (13 lowercase alphanumerics), fixed so the docs can show them. */
const SANDBOXES = [
  { name: 'pr-101', routingKey: 'ltj9s8scupb86' },
  { name: 'pr-102', routingKey: 'vf0ju8vw50wpu' },
] as const;
const ROUTE_GROUP = { name: 'checkout-team', routingKey: 'rg4835rlwxwby', sandboxes: ['pr-102'] };
const UNKNOWN_KEY = 'nosuchsandbox';

interface Row extends EventOutcome {
  routingKey: string;
  expected: string;
  /** The trace the producer started for the event. */
  traceId: string | undefined;
}

function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The ingress, the workflow and every activity ran on the instance the routing key selects. */
function ranWhereExpected(r: Row): boolean {
  return (
    r.ingestedBy === r.expected && r.ranOn === r.expected && r.activitiesOn.every((a) => a === r.expected)
  );
}

function printTable(rows: Row[]): void {
  const header = [
    'event',
    'routing key',
    'expected owner',
    'ingested by',
    'ran on',
    'activities on',
    'pricing',
    'latency',
    '',
  ];
  const lines = rows.map((r) => {
    const ok = ranWhereExpected(r);
    return [
      r.eventId,
      r.routingKey || '(none)',
      r.expected,
      r.ingestedBy ?? '?',
      r.ranOn ?? '?',
      [...new Set(r.activitiesOn)].join(','),
      r.pricing ?? '?',
      r.latencyMs === undefined ? '?' : `${r.latencyMs} ms`,
      ok ? 'ok' : 'WRONG',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(format(line));
}

async function main(options: { eventsPerKey: number; exit: boolean }): Promise<number> {
  const startedStack = !isUp();
  const stack = await up();
  const pipeline = new Pipeline({
    stack: stackEnvFrom(stack),
    logDir: path.join(STACK_DIR, 'logs', 'demo'),
  });
  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= (async () => {
      console.log('\nstopping the services the demo started…');
      await pipeline.stop();
      if (startedStack) await down();
    })();
    return stopping;
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));

  console.log('\nregistering sandboxes in the routeserver stand-in (as Signadot would):');
  for (const sandbox of SANDBOXES) {
    await pipeline.registerSandbox(sandbox.name, sandbox.routingKey, ['ingress', 'worker']);
    console.log(
      `  ${sandbox.name}: routing key ${sandbox.routingKey}, forks Deployment/local/ingress and Deployment/local/worker`,
    );
  }
  await pipeline.registerRouteGroup(ROUTE_GROUP.name, ROUTE_GROUP.routingKey, ROUTE_GROUP.sandboxes);
  console.log(
    `  RouteGroup ${ROUTE_GROUP.name}: routing key ${ROUTE_GROUP.routingKey} → ${ROUTE_GROUP.sandboxes.join(', ')}`,
  );

  console.log('\nstarting services (each a process, like a pod):');
  for (const sandbox of ['', ...SANDBOXES.map((s) => s.name)]) {
    const worker = await pipeline.startWorker(sandbox);
    const ingress = await pipeline.startIngress(sandbox);
    console.log(`  ${instanceLabel(sandbox)}: worker ${worker.httpUrl}, ingress ${ingress.httpUrl}`);
  }

  const mix: { routingKey: string; expected: string }[] = [
    { routingKey: '', expected: 'baseline' },
    ...SANDBOXES.map((s) => ({ routingKey: s.routingKey, expected: s.name })),
    { routingKey: ROUTE_GROUP.routingKey, expected: ROUTE_GROUP.sandboxes[0] as string },
    { routingKey: UNKNOWN_KEY, expected: 'baseline' },
  ];
  const run = Date.now().toString(36);
  console.log(`\npublishing ${options.eventsPerKey} event(s) per routing key with the producer CLI…`);
  const published = await Promise.all(
    mix.map(async (entry, i) => {
      const summary = await pipeline.publish({
        routingKey: entry.routingKey,
        count: options.eventsPerKey,
        idPrefix: `demo-${run}-${i}`,
      });
      return summary.events.map((event) => ({ ...entry, eventId: event.id, traceId: event.traceId }));
    }),
  );
  const rows: Row[] = await Promise.all(
    published.flat().map(async (entry) => ({ ...(await pipeline.outcome(entry.eventId)), ...entry })),
  );

  console.log('');
  printTable(rows);
  const wrong = rows.filter((r) => !ranWhereExpected(r));
  for (const [label, filter] of [
    ['baseline', (r: Row) => r.expected === 'baseline'],
    ['sandbox', (r: Row) => r.expected !== 'baseline'],
  ] as const) {
    const latencies = rows.filter(filter).flatMap((r) => (r.latencyMs === undefined ? [] : [r.latencyMs]));
    console.log(
      `${label.padEnd(8)} latency publish→complete: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms (${latencies.length} events)`,
    );
  }
  console.log(`\n${rows.length - wrong.length}/${rows.length} events ran where their routing key says.`);
  if (stack.JAEGER_URL) {
    // One trace per event: producer → Kafka → ingress decision → workflow → each activity.
    console.log('\nTraces (one per event, from the producer to the last activity):');
    for (const row of rows) {
      const link = row.traceId ? `${stack.JAEGER_URL}/trace/${row.traceId}` : '(no trace id reported)';
      console.log(`  ${row.eventId.padEnd(Math.max(...rows.map((r) => r.eventId.length)))}  ${link}`);
    }
  }
  console.log(
    `Temporal UI: ${stack.TEMPORAL_UI_URL} (search: SignadotRoutingKey="${SANDBOXES[0].routingKey}")`,
  );
  if (stack.JAEGER_URL) {
    console.log(`Traces:      ${stack.JAEGER_URL}/?service=ingress&routingKey=${SANDBOXES[0].routingKey}`);
  }
  const keepRunning = !options.exit && process.stdout.isTTY;
  // The web console: send more events to any owner and watch where each one runs.
  const consoleLine = keepRunning
    ? await pipeline.startConsole(readSettings().consolePort).then(
        (service) => `${service.httpUrl} (send events to any sandbox, watch where each one runs)`,
        (error: Error) => `not started (${error.message})`,
      )
    : 'not started: the demo exits now (run it in a terminal to keep it, or see npm run console)';
  console.log(`Console:     ${consoleLine}`);
  console.log(`Service logs: ${path.join(STACK_DIR, 'logs', 'demo')}`);
  console.log(
    `Send more: node --require ./producer/dist/instrument.js producer/dist/cli.js publish --routing-key ${SANDBOXES[0].routingKey} --count 3`,
  );

  if (!keepRunning) {
    await stopAll();
  } else {
    console.log('\nThe services keep running; press Ctrl-C to stop everything the demo started.');
    await new Promise(() => undefined);
  }
  return wrong.length === 0 ? 0 : 1;
}

const program = new Command()
  .name('demo')
  .description('Runs the pipeline on the local stack with two sandboxes and prints where each event ran.')
  .option('--events-per-key <n>', 'events to publish per routing key', (v) => Number.parseInt(v, 10), 2)
  .option('--exit', 'stop everything after printing the table instead of waiting for Ctrl-C')
  .action(async (options: { eventsPerKey: number; exit?: boolean }) => {
    process.exitCode = await main({ eventsPerKey: options.eventsPerKey, exit: options.exit ?? false });
  });

program.parseAsync().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
