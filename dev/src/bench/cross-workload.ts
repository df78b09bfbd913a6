import { randomUUID } from 'node:crypto';
import {
  Application,
  ApplicationRoutes,
  RouteserverClient,
  runWithRoutingKey,
  type WorkloadRef,
} from '@sandbox-routing/core';
import { createRoutingWorker, RoutingClientInterceptor } from '@sandbox-routing/temporal';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createRouteserverStandIn } from '../routeserver/server';
import { percentile } from './route-defaults';

/** Latency of a one-activity workflow with its activity on its own queue, and on another workload's. */
export interface CrossWorkload {
  workflows: number;
  own: { p50: number; p99: number };
  other: { p50: number; p99: number };
  /** other / own, at p50 and p99 (goal ≤ 1.1×). */
  ratio: { p50: number; p99: number };
  /** Activities that ran elsewhere than the key's owner of their workload (must be 0). */
  misplaced: number;
}

/**
 * An orders workflow under a key whose sandbox forks payments only: its activity on its own queue (the
 * orders baseline runs it), against the same activity on the payments queue, which the workflow sends to
 * `payments@<sandbox>` on the first try (decided through the recorded route check). Alternating, one at a
 * time, after a warm-up: the difference is the decision about the other workload.
 */
export async function measureCrossWorkload(temporalAddress: string, count: number): Promise<CrossWorkload> {
  const id = randomUUID().slice(0, 8);
  const ORDERS: WorkloadRef = { kind: 'Deployment', namespace: 'local', name: `xorders-${id}` };
  const PAYMENTS: WorkloadRef = { kind: 'Deployment', namespace: 'local', name: `xpay-${id}` };
  const queues = { orders: `xo-${id}`, payments: `xp-${id}` };
  const application = new Application([
    { name: 'orders', baseline: ORDERS, taskQueues: [queues.orders], consumers: [] },
    { name: 'payments', baseline: PAYMENTS, taskQueues: [queues.payments], consumers: [] },
  ]);
  const key = `xbench${id}`;
  const standIn = await createRouteserverStandIn({ host: '127.0.0.1', port: 0, grpcPort: 0 });
  await fetch(`${standIn.url}/admin/sandboxes/pay-x`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ routingKey: key, forks: [PAYMENTS] }),
  });
  const routes = new ApplicationRoutes(application, ORDERS, {
    client: new RouteserverClient({ url: standIn.url, requestTimeoutMs: 1000 }),
    refreshIntervalMs: 1000,
    unknownKeyRefetchIntervalMs: 1000,
    firstSyncTimeoutMs: 10_000,
  }).start();
  const native = await NativeConnection.connect({ address: temporalAddress });
  const workflowsPath = require.resolve('./fixtures/bench-workflows');
  const workers: Worker[] = [
    await createRoutingWorker(
      { connection: native, workflowsPath, activities: { whoRanMe: async () => 'orders:baseline' } },
      {
        identity: { baseline: ORDERS, sandboxName: '' },
        routeTable: routes.own,
        sharedQueue: queues.orders,
        application: { declaration: application, routes },
      },
    ),
    // The payments fork: nothing but its queue name, as a service in another language.
    await Worker.create({
      connection: native,
      taskQueue: `${queues.payments}@pay-x`,
      workflowsPath,
      activities: { whoRanMe: async () => 'payments:pay-x' },
    }),
  ];
  const running = workers.map((w) => w.run());
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({
    connection,
    interceptors: { workflow: [new RoutingClientInterceptor({ doorRouting: { application, routes } })] },
  });
  const times = { own: [] as number[], other: [] as number[] };
  let misplaced = 0;
  try {
    for (let i = 0; i < count + 5; i++) {
      for (const variant of ['own', 'other'] as const) {
        const target = variant === 'own' ? queues.orders : queues.payments;
        const started = performance.now();
        const ranOn = await runWithRoutingKey(key, () =>
          client.workflow.execute('crossProbe', {
            taskQueue: queues.orders,
            workflowId: `xbench-${randomUUID()}`,
            args: [target],
          }),
        );
        if (ranOn !== (variant === 'own' ? 'orders:baseline' : 'payments:pay-x')) misplaced++;
        if (i >= 5) times[variant].push(performance.now() - started); // after a warm-up
      }
    }
  } finally {
    for (const worker of workers) worker.shutdown();
    await Promise.allSettled(running);
    await routes.stop();
    await connection.close();
    await native.close();
    await standIn.close();
  }
  const summary = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { p50: Math.round(percentile(sorted, 50)), p99: Math.round(percentile(sorted, 99)) };
  };
  const own = summary(times.own);
  const other = summary(times.other);
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    workflows: count,
    own,
    other,
    ratio: { p50: round(other.p50 / own.p50), p99: round(other.p99 / own.p99) },
    misplaced,
  };
}
