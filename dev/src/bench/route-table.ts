import type { RouteTableMode } from '@sandbox-routing/core';
import { loadConfig, routeserverSchema } from '@sandbox-routing/service-kit';
import { Command } from 'commander';
import { createRouteserverStandIn } from '../routeserver/server';
import { defaultRouteTable } from './route-defaults';
import { runBench } from './run';

/**
 * Benchmark: how many routeserver requests one route table makes per minute, at idle and during a
 * burst of lookups of unknown keys, with the services' default settings, watching and polling. Prints
 * numbers; asserts nothing.
 */
async function main(options: { seconds: number; rate: number }): Promise<void> {
  for (const mode of ['watch', 'polling'] as const) await measure(mode, options);
}

async function measure(mode: RouteTableMode, options: { seconds: number; rate: number }): Promise<void> {
  const standIn = await createRouteserverStandIn({ host: '127.0.0.1', port: 0, grpcPort: 0 });
  const baseline = { kind: 'Deployment', namespace: 'local', name: 'worker' };
  await fetch(`${standIn.url}/admin/sandboxes/pr-1`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ routingKey: 'ltj9s8scupb86', forks: [baseline] }),
  });
  const table = defaultRouteTable(standIn, baseline, mode);
  await table.waitForFirstSync();
  const requests = async () => {
    const counts = (await (await fetch(`${standIn.url}/admin/requests`)).json()) as {
      routingRules: number;
      watchWorkloadRoutingRules: number;
    };
    return counts.routingRules + counts.watchWorkloadRoutingRules;
  };
  const phase = async (name: string, load: (stop: () => boolean) => Promise<number>) => {
    await fetch(`${standIn.url}/admin/requests`, { method: 'DELETE' });
    const started = Date.now();
    const deadline = started + options.seconds * 1000;
    const lookups = await load(() => Date.now() >= deadline);
    const elapsedMin = (Date.now() - started) / 60_000;
    const count = await requests();
    console.log(
      `  ${name.padEnd(22)} ${(count / elapsedMin).toFixed(1).padStart(7)} requests/min  (${count} requests or new streams, ${lookups} lookups in ${(elapsedMin * 60).toFixed(1)} s)`,
    );
  };
  const defaults = loadConfig({ routeserver: routeserverSchema() }, { env: {} }).routeserver;
  console.log(
    mode === 'watch'
      ? `route table watching (gRPC), defaults; ${options.seconds} s per phase`
      : `route table polling (HTTP), defaults: refresh ${defaults.refreshIntervalMs} ms, unknown-key refetch at most every ${defaults.unknownKeyRefetchIntervalMs} ms; ${options.seconds} s per phase`,
  );
  await phase('idle', async (stop) => {
    while (!stop()) await new Promise((resolve) => setTimeout(resolve, 100));
    return 0;
  });
  await phase(`burst of unknown keys`, async (stop) => {
    let lookups = 0;
    let latencyTotal = 0;
    while (!stop()) {
      const batch = Math.max(1, Math.round(options.rate / 20));
      const started = performance.now();
      await Promise.all(Array.from({ length: batch }, (_, i) => table.ownerOf(`unknown-${lookups + i}`)));
      latencyTotal += performance.now() - started;
      lookups += batch;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    console.log(
      `    mean wait of a batch of unknown-key lookups: ${(latencyTotal / (lookups / Math.max(1, Math.round(options.rate / 20)))).toFixed(2)} ms`,
    );
    return lookups;
  });
  await phase('known keys only', async (stop) => {
    let lookups = 0;
    while (!stop()) {
      for (let i = 0; i < 100; i++) await table.ownerOf('ltj9s8scupb86');
      lookups += 100;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return lookups;
  });
  await table.stop();
  await standIn.close();
}

runBench(
  new Command()
    .name('bench-route-table')
    .option('--seconds <n>', 'duration of each phase', (v) => Number(v), 20)
    .option('--rate <n>', 'unknown-key lookups per second during the burst', (v) => Number(v), 2000)
    .action((options: { seconds: number; rate: number }) => main(options)),
);
