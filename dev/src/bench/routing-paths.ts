import { randomUUID } from 'node:crypto';
import { instanceLabel, type RouteTable, runWithRoutingKey } from '@sandbox-routing/core';
import { createRoutingWorker, RoutingClientInterceptor } from '@sandbox-routing/temporal';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { Command } from 'commander';
import { createRouteserverStandIn } from '../routeserver/server';
import { down, isUp, up } from '../stack/stack';
import { defaultRouteTable, percentile } from './route-defaults';
import { runBench } from './run';

/**
 * Benchmark: start-to-completion time of a one-activity workflow on three paths, with a baseline and a
 * sandboxed worker running: no key (baseline), a sandbox key placed at the door (client interceptor),
 * and a sandbox key started on the shared queue by a plain client (first-task redirect by
 * continue-as-new). Also counts work that ran on the wrong worker. Prints numbers; asserts nothing.
 */

async function main(options: { count: number }): Promise<void> {
  const startedStack = !isUp();
  const stack = await up();
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const standIn = await createRouteserverStandIn({ host: '127.0.0.1', port: 0, grpcPort: 0 });
  const baseline = { kind: 'Deployment', namespace: 'local', name: 'worker' };
  const key = 'benchpath0key';
  await fetch(`${standIn.url}/admin/sandboxes/pr-bench`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ routingKey: key, forks: [baseline] }),
  });
  const table = () => defaultRouteTable(standIn, baseline);
  const sharedQueue = `bench-${randomUUID().slice(0, 8)}`;
  const tables = [table(), table(), table()];
  const native = await NativeConnection.connect({ address: stack.TEMPORAL_ADDRESS });
  const workers: Worker[] = [];
  for (const [i, sandboxName] of ['', 'pr-bench'].entries()) {
    workers.push(
      await createRoutingWorker(
        {
          connection: native,
          workflowsPath: require.resolve('./fixtures/bench-workflows'),
          activities: { whoRanMe: async () => instanceLabel(sandboxName) },
        },
        { identity: { baseline, sandboxName }, routeTable: tables[i] as RouteTable, sharedQueue },
      ),
    );
  }
  const running = workers.map((w) => w.run());
  const connection = await Connection.connect({ address: stack.TEMPORAL_ADDRESS });
  const door = new Client({
    connection,
    interceptors: {
      workflow: [
        new RoutingClientInterceptor({ doorRouting: { routeTable: tables[2] as RouteTable, sharedQueue } }),
      ],
    },
  });
  const plain = new Client({ connection, interceptors: { workflow: [new RoutingClientInterceptor()] } });

  const paths = [
    { name: 'no key (baseline)', client: door, key: undefined, expect: 'baseline' },
    { name: 'sandbox key, door-routed', client: door, key, expect: 'pr-bench' },
    { name: 'sandbox key, redirected', client: plain, key, expect: 'pr-bench' },
  ];
  console.log(`${options.count} workflows per path, sequential, one activity each`);
  try {
    for (const path of paths) {
      const times: number[] = [];
      let wrong = 0;
      for (let i = 0; i < options.count + 3; i++) {
        const started = performance.now();
        const run = () =>
          path.client.workflow.execute('benchProbe', {
            taskQueue: sharedQueue,
            workflowId: `bench-${randomUUID()}`,
          });
        const result = (await (path.key ? runWithRoutingKey(path.key, run) : run())) as {
          activityInstance: string;
        };
        if (i < 3) continue; // warm-up
        times.push(performance.now() - started);
        if (result.activityInstance !== path.expect) wrong++;
      }
      times.sort((a, b) => a - b);
      console.log(
        `${path.name.padEnd(26)} p50 ${percentile(times, 50).toFixed(0).padStart(4)} ms  p99 ${percentile(times, 99).toFixed(0).padStart(4)} ms  wrong worker ${wrong}`,
      );
    }
  } finally {
    for (const worker of workers) worker.shutdown();
    await Promise.allSettled(running);
    await Promise.all(tables.map((t) => t.stop()));
    await connection.close();
    await native.close();
    await standIn.close();
    if (startedStack) await down();
  }
}

runBench(
  new Command()
    .name('bench-routing-paths')
    .option('--count <n>', 'workflows per path', (v) => Number(v), 30)
    .action((options: { count: number }) => main(options)),
);
