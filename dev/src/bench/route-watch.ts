import { setTimeout as delay } from 'node:timers/promises';
import { decideOwnership, type RouteTable, type RouteTableMode } from '@sandbox-routing/core';
import { Command, InvalidArgumentError } from 'commander';
import { StandInProcess } from '../routeserver/standin-process';
import { defaultRouteTable, percentile } from './route-defaults';
import { runBench } from './run';

/**
 * Benchmark of push (gRPC watch) against polling (HTTP), with the services' default settings and the
 * stand-in in its own process on loopback:
 *
 * 1. Sandbox created → first event with its key routed to it. After the admin API has created a
 *    sandbox, events carrying its key arrive every few milliseconds and are decided by a route table (as
 *    the ingress and door routing do); the time from the creation request to the first decision that
 *    routes an event to the sandbox, and how many events were decided for the baseline before it.
 * 2. Routeserver load of many route tables (one per service instance) over a period with sandboxes
 *    coming and going and a trickle of keys no rule names: HTTP requests, gRPC calls and watch streams
 *    per minute, and how long a new sandbox takes to reach every table.
 *
 * Prints numbers; asserts nothing.
 */
const WORKER = { kind: 'Deployment', namespace: 'local', name: 'worker' };
const MODES: readonly RouteTableMode[] = ['watch', 'polling'];

interface Options {
  trials: number;
  eventIntervalMs: number;
  tables: number;
  duration: number;
  unknownRate: number;
  part: 'all' | 'latency' | 'load';
}

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p).toFixed(1).padStart(7);
  return `p50 ${at(50)} ms  p99 ${at(99)} ms  max ${(sorted.at(-1) ?? Number.NaN).toFixed(1).padStart(7)} ms`;
};

async function firstRoutedEvent(options: Options, standIn: StandInProcess): Promise<void> {
  console.log(
    `\n1. sandbox created → first event with its key routed to it (${options.trials} sandboxes per mode, ` +
      `an event every ${options.eventIntervalMs} ms from the moment the sandbox exists)`,
  );
  for (const mode of MODES) {
    const table = defaultRouteTable(standIn, WORKER, mode);
    await table.waitForFirstSync();
    const latencies: number[] = [];
    let misrouted = 0;
    let events = 0;
    for (let trial = 0; trial < options.trials; trial++) {
      // A random phase against the polling schedule (2 s), as sandboxes are created at any moment.
      await delay(Math.random() * 2000);
      const sandboxName = `lat-${mode}-${trial}`;
      const key = `lat${mode}${trial}x${Date.now().toString(36)}`;
      const identity = { baseline: WORKER, sandboxName };
      const created = performance.now();
      await standIn.putSandbox(sandboxName, key, [WORKER]);
      const routed = await new Promise<number>((resolve) => {
        let done = false;
        const decide = () => {
          if (done) return;
          events++;
          void decideOwnership(table, identity, key).then((decision) => {
            if (done) return;
            if (decision.owned) {
              done = true;
              clearInterval(timer);
              resolve(performance.now());
            } else {
              misrouted++;
            }
          });
        };
        const timer = setInterval(decide, options.eventIntervalMs);
        decide();
      });
      latencies.push(routed - created);
      await standIn.admin('DELETE', `/admin/sandboxes/${sandboxName}`);
    }
    await table.stop();
    console.log(
      `   ${mode.padEnd(8)} ${summary(latencies)}  events decided for the baseline: ${misrouted} of ${events}`,
    );
  }
}

async function routeserverLoad(options: Options, standIn: StandInProcess): Promise<void> {
  console.log(
    `\n2. routeserver load: ${options.tables} route tables for ${options.duration} s per mode; a sandbox ` +
      `created every 10 s and deleted 5 s later; ${options.unknownRate} lookup(s)/s per table of keys no rule names`,
  );
  for (const mode of MODES) {
    const tables: RouteTable[] = Array.from({ length: options.tables }, () =>
      defaultRouteTable(standIn, WORKER, mode),
    );
    await Promise.all(tables.map((t) => t.waitForFirstSync(30_000)));
    await standIn.admin('DELETE', '/admin/requests');
    const started = Date.now();
    const deadline = started + options.duration * 1000;
    const propagation: number[] = [];
    let lookups = 0;
    const lookupTimer =
      options.unknownRate > 0
        ? setInterval(() => {
            for (const table of tables) void table.ownerOf(`nobody-${lookups++}`);
          }, 1000 / options.unknownRate)
        : undefined;
    const until = (at: number) => Math.max(0, Math.min(at, deadline) - Date.now());
    let churn = 0;
    while (Date.now() < deadline) {
      const cycle = Date.now();
      const name = `load-${mode}-${churn}`;
      const key = `load${mode}${churn++}x${started.toString(36)}`;
      const created = performance.now();
      await standIn.putSandbox(name, key, [WORKER]);
      // Until every table knows the new sandbox (peekOwner makes no request of its own).
      while (!tables.every((t) => t.peekOwner(key)?.kind === 'sandbox') && Date.now() < deadline + 10_000) {
        await delay(2);
      }
      propagation.push(performance.now() - created);
      await delay(until(cycle + 5000));
      await standIn.admin('DELETE', `/admin/sandboxes/${name}`);
      await delay(until(cycle + 10_000));
    }
    clearInterval(lookupTimer);
    const minutes = (Date.now() - started) / 60_000;
    const counts = await standIn.requests();
    await Promise.all(tables.map((t) => t.stop()));
    const perMinute = (n: number) => (n / minutes).toFixed(1).padStart(8);
    console.log(
      `   ${mode.padEnd(8)} HTTP requests/min ${perMinute(counts.routingRules)}  gRPC Get/min ${perMinute(counts.getWorkloadRoutingRules)}  ` +
        `watch streams opened/min ${perMinute(counts.watchWorkloadRoutingRules)}  streams open ${counts.activeWatches}`,
    );
    console.log(
      `            a new sandbox reaches all ${options.tables} tables: ${summary(propagation)} (${propagation.length} sandboxes)`,
    );
  }
}

async function main(options: Options): Promise<void> {
  const standIn = await StandInProcess.start();
  console.log(`stand-in (own process): HTTP ${standIn.url}, gRPC ${standIn.grpcAddress}`);
  try {
    if (options.part !== 'load') await firstRoutedEvent(options, standIn);
    if (options.part !== 'latency') await routeserverLoad(options, standIn);
  } finally {
    await standIn.stop();
  }
}

const positive = (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number.');
  return n;
};
const nonNegative = (value: string) => {
  const n = Number(value);
  if (!(n >= 0)) throw new InvalidArgumentError('must be a number ≥ 0.');
  return n;
};

runBench(
  new Command()
    .name('bench-route-watch')
    .option('--trials <n>', 'sandboxes created per mode (latency part)', positive, 200)
    .option('--event-interval-ms <n>', 'gap between events with the new key', positive, 1)
    .option('--tables <n>', 'route tables (service instances) in the load part', positive, 50)
    .option('--duration <seconds>', 'length of the load part, per mode', positive, 300)
    .option(
      '--unknown-rate <n>',
      'lookups per second per table of keys no rule names (0: none)',
      nonNegative,
      1,
    )
    .option('--part <part>', 'all | latency | load', 'all')
    .action((options: Options) => main(options)),
);
