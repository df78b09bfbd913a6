import path from 'node:path';
import { instanceLabel } from '@sandbox-routing/core';
import { Command } from 'commander';
import { type EventOutcome, Pipeline, stackEnvFrom } from '../pipeline/pipeline';
import { STACK_DIR } from '../stack/paths';
import { readSettings } from '../stack/settings';
import { down, isUp, up } from '../stack/stack';

/** A workload of the sample application a sandbox can fork. */
type Workload = 'ingress' | 'worker' | 'payments' | 'notifier';

/**
 * The demo's sandboxes, each forking some of the application's workloads. Routing keys in Signadot's format
 * (13 lowercase alphanumerics), fixed so the docs can show them.
 */
const SANDBOXES: readonly { name: string; routingKey: string; forks: Workload[] }[] = [
  { name: 'pr-101', routingKey: 'ltj9s8scupb86', forks: ['ingress', 'worker'] },
  { name: 'pr-102', routingKey: 'vf0ju8vw50wpu', forks: ['ingress', 'worker'] },
  // A pull request of the Python payments service alone.
  { name: 'pr-103', routingKey: 'pay7h2kq9x4mz', forks: ['payments'] },
  // A pull request of the notifier alone (the second consumer of the events topic).
  { name: 'pr-104', routingKey: 'ntf3c8w1r6yqd', forks: ['notifier'] },
];
const ROUTE_GROUP = { name: 'checkout-team', routingKey: 'rg4835rlwxwby', sandboxes: ['pr-102', 'pr-103'] };
const UNKNOWN_KEY = 'nosuchsandbox';
const WORKLOADS: readonly Workload[] = ['ingress', 'worker', 'payments', 'notifier'];

/** Each workload's owner for a key that selects `sandboxes`: the one that forks it, else the baseline. */
function ownersOf(sandboxes: readonly string[]): Record<Workload, string> {
  const forking = (workload: Workload) =>
    SANDBOXES.find((s) => sandboxes.includes(s.name) && s.forks.includes(workload))?.name ?? 'baseline';
  return Object.fromEntries(WORKLOADS.map((w) => [w, forking(w)])) as Record<Workload, string>;
}

interface Row extends EventOutcome {
  routingKey: string;
  expected: Record<Workload, string>;
  /** Which copy of the notifier processed the event. */
  notifiedBy: string | undefined;
  /** The trace the producer started for the event. */
  traceId: string | undefined;
}

function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Where each step of the event ran, by workload. */
function ranOn(r: Row): Record<Workload, string[]> {
  return {
    ingress: [r.ingestedBy ?? '?'],
    worker: [...new Set([r.ranOn ?? '?', ...r.activitiesOn])],
    payments: [r.paymentsOn ?? '?'],
    notifier: [r.notifiedBy ?? '?'],
  };
}

/** Every step of the event ran on the owner its routing key selects for that step's workload. */
function ranWhereExpected(r: Row): boolean {
  const ran = ranOn(r);
  return WORKLOADS.every((w) => ran[w].length === 1 && ran[w][0] === r.expected[w]);
}

function printTable(rows: Row[]): void {
  const header = [
    'event',
    'routing key',
    'ingress',
    'workflow+activities',
    'payments',
    'notifier',
    'pricing',
    'latency',
    '',
  ];
  // A step that ran elsewhere than expected shows both: "baseline≠pr-103".
  const cell = (r: Row, w: Workload) => {
    const ran = ranOn(r)[w].join(',');
    return ran === r.expected[w] ? ran : `${ran}≠${r.expected[w]}`;
  };
  const lines = rows.map((r) => [
    r.eventId,
    r.routingKey || '(none)',
    ...WORKLOADS.map((w) => cell(r, w)),
    r.pricing ?? '?',
    r.latencyMs === undefined ? '?' : `${r.latencyMs} ms`,
    ranWhereExpected(r) ? 'ok' : 'WRONG',
  ]);
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
    await pipeline.registerSandbox(sandbox.name, sandbox.routingKey, sandbox.forks);
    console.log(
      `  ${sandbox.name}: routing key ${sandbox.routingKey}, forks ${sandbox.forks.map((f) => `Deployment/local/${f}`).join(' and ')}`,
    );
  }
  await pipeline.registerRouteGroup(ROUTE_GROUP.name, ROUTE_GROUP.routingKey, ROUTE_GROUP.sandboxes);
  console.log(
    `  RouteGroup ${ROUTE_GROUP.name}: routing key ${ROUTE_GROUP.routingKey} → ${ROUTE_GROUP.sandboxes.join(', ')}`,
  );

  console.log('\nstarting services (each a process, like a pod; the Python payments service too):');
  const starts: Record<Workload, (sandbox: string) => Promise<{ httpUrl: string }>> = {
    ingress: (s) => pipeline.startIngress(s),
    worker: (s) => pipeline.startWorker(s),
    payments: (s) => pipeline.startPayments(s),
    notifier: (s) => pipeline.startNotifier(s),
  };
  // The baseline runs every workload (the first worker starts the baseline payments service beside it).
  for (const { sandbox, forks } of [
    { sandbox: '', forks: ['worker', 'ingress', 'notifier'] as Workload[] },
    ...SANDBOXES.map((s) => ({ sandbox: s.name, forks: s.forks })),
  ]) {
    const urls = [];
    for (const workload of forks) urls.push(`${workload} ${(await starts[workload](sandbox)).httpUrl}`);
    console.log(`  ${instanceLabel(sandbox)}: ${urls.join(', ')}`);
  }
  await pipeline.watchConsumers();

  const mix: { routingKey: string; expected: Record<Workload, string> }[] = [
    { routingKey: '', expected: ownersOf([]) },
    ...SANDBOXES.map((s) => ({ routingKey: s.routingKey, expected: ownersOf([s.name]) })),
    { routingKey: ROUTE_GROUP.routingKey, expected: ownersOf(ROUTE_GROUP.sandboxes) },
    { routingKey: UNKNOWN_KEY, expected: ownersOf([]) },
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
    published.flat().map(async (entry) => ({
      ...(await pipeline.outcome(entry.eventId)),
      notifiedBy: await pipeline.consumerOutcome(entry.eventId).catch(() => undefined),
      ...entry,
    })),
  );

  console.log('');
  printTable(rows);
  const wrong = rows.filter((r) => !ranWhereExpected(r));
  for (const [label, filter] of [
    ['baseline', (r: Row) => r.expected.worker === 'baseline'],
    ['sandbox', (r: Row) => r.expected.worker !== 'baseline'],
  ] as const) {
    const latencies = rows.filter(filter).flatMap((r) => (r.latencyMs === undefined ? [] : [r.latencyMs]));
    console.log(
      `${label.padEnd(8)} latency publish→complete: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms (${latencies.length} events)`,
    );
  }
  console.log(
    `\n${rows.length - wrong.length}/${rows.length} events ran every step (ingress, workflow and activities, payments, notifier) where their routing key says.`,
  );
  if (stack.JAEGER_URL) {
    // One trace per event: producer → Kafka → ingress decision → workflow → each activity.
    console.log('\nTraces (one per event, from the producer to the last activity):');
    for (const row of rows) {
      const link = row.traceId ? `${stack.JAEGER_URL}/trace/${row.traceId}` : '(no trace id reported)';
      console.log(`  ${row.eventId.padEnd(Math.max(...rows.map((r) => r.eventId.length)))}  ${link}`);
    }
  }
  console.log(
    `Temporal UI: ${stack.TEMPORAL_UI_URL} (search: SignadotRoutingKey="${SANDBOXES[0]?.routingKey}")`,
  );
  if (stack.JAEGER_URL) {
    console.log(`Traces:      ${stack.JAEGER_URL}/?service=ingress&routingKey=${SANDBOXES[0]?.routingKey}`);
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
  console.log(`Send more: npx sandbox-routing publish --routing-key ${SANDBOXES[0]?.routingKey} --count 3`);

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
  .description(
    'Runs the sample application on the local stack with four sandboxes, each forking other workloads, and prints where each step of each event ran.',
  )
  .option('--events-per-key <n>', 'events to publish per routing key', (v) => Number.parseInt(v, 10), 2)
  .option('--exit', 'stop everything after printing the table instead of waiting for Ctrl-C')
  .action(async (options: { eventsPerKey: number; exit?: boolean }) => {
    process.exitCode = await main({ eventsPerKey: options.eventsPerKey, exit: options.exit ?? false });
  });

program.parseAsync().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
