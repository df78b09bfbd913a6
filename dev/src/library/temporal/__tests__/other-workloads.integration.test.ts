/**
 * DESIGN §9, the Temporal side: a workflow's work for another workload (an activity, a child workflow)
 * goes to that workload's owner for the key, on the first try. The other workload's workers here have
 * no routing library at all, as a fork in another language would not: each polls its queue, or
 * `<queue>@<sandbox>` in a fork. Against the real Temporal dev server and the routeserver stand-in.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  Application,
  ApplicationRoutes,
  RouteserverClient,
  runWithRoutingKey,
  type WorkloadRef,
} from '@sandbox-routing/core';
import {
  createRoutingWorker,
  ROUTING_WORKFLOW_INTERCEPTORS,
  RoutingClientInterceptor,
} from '@sandbox-routing/temporal';
import { pollUntil, runHistories, stackEnv } from '@sandbox-routing/testkit';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { StandInProcess } from '../../../routeserver/standin-process';
import type { Observation } from './fixtures/routing-workflows';

const stack = stackEnv();
const id = randomUUID().slice(0, 8);
const ORDERS: WorkloadRef = { kind: 'Deployment', namespace: 'local', name: `orders-${id}` };
const PAYMENTS: WorkloadRef = { kind: 'Deployment', namespace: 'local', name: `payments-${id}` };
const QUEUES = { orders: `ow-${id}`, payments: `pay-${id}`, solo: `solo-${id}` };
const application = new Application([
  { name: 'orders', baseline: ORDERS, taskQueues: [QUEUES.orders], consumers: [] },
  { name: 'payments', baseline: PAYMENTS, taskQueues: [QUEUES.payments], consumers: [] },
]);
const WORKFLOWS = require.resolve('./fixtures/routing-workflows');

/** Every activity call, in the order they ran: tests wait on it. */
const calls: { instance: string; taskQueue: string }[] = [];

/** What a worker of a queue reports (the plain ones have no routing library): where it ran, which attempt. */
function probe(instance: string) {
  return {
    async whereAmI(step: string): Promise<Observation & { attempt: number }> {
      const { taskQueue, attempt } = Context.current().info;
      calls.push({ instance, taskQueue });
      return { step, key: undefined, taskQueue, instance, attempt };
    },
  };
}

describe('work for other workloads goes to their owners', () => {
  let standIn: StandInProcess;
  let routes: ApplicationRoutes;
  let client: Client;
  let connection: NativeConnection;
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];
  const closers: { close(): Promise<void> }[] = [];

  async function plainWorker(taskQueue: string, instance: string) {
    const worker = await Worker.create({
      connection,
      taskQueue,
      activities: probe(instance),
      workflowsPath: WORKFLOWS,
    });
    workers.push(worker);
    running.push(worker.run());
  }

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    standIn = await StandInProcess.start();
    routes = new ApplicationRoutes(application, ORDERS, {
      client: new RouteserverClient({ url: standIn.url, requestTimeoutMs: 1000 }),
      refreshIntervalMs: 200,
      unknownKeyRefetchIntervalMs: 100,
      firstSyncTimeoutMs: 10_000,
    }).start();
    connection = await NativeConnection.connect({ address: stack.TEMPORAL_ADDRESS });
    closers.push(connection);
    // The orders workload: a routing worker on its shared queue, and one for the sandbox `ord`.
    for (const sandboxName of ['', 'ord']) {
      const worker = await createRoutingWorker(
        { connection, workflowsPath: WORKFLOWS, activities: probe(sandboxName || 'baseline') },
        {
          identity: { baseline: ORDERS, sandboxName },
          routeTable: routes.own,
          sharedQueue: QUEUES.orders,
          application: { declaration: application, routes },
        },
      );
      workers.push(worker);
      running.push(worker.run());
    }
    // The payments workload (baseline, and forks in `pay` and `ord`) and an undeclared queue: plain
    // workers with nothing but their queue names, as a service in another language.
    await plainWorker(QUEUES.payments, 'baseline');
    await plainWorker(`${QUEUES.payments}@pay`, 'pay');
    await plainWorker(`${QUEUES.payments}@ord`, 'ord');
    await plainWorker(QUEUES.solo, 'solo');
    const clientConnection = await Connection.connect({ address: stack.TEMPORAL_ADDRESS });
    closers.push(clientConnection);
    client = new Client({
      connection: clientConnection,
      interceptors: { workflow: [new RoutingClientInterceptor({ doorRouting: { application, routes } })] },
    });
  });

  after(async () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.allSettled(running);
    await routes?.stop();
    for (const closer of closers.reverse()) await closer.close();
    await standIn?.stop();
  });

  /** Waits until every table sees `key` owned as `owners` says, per workload. */
  async function seen(key: string, owners: [WorkloadRef, string][]): Promise<void> {
    await pollUntil(
      async () =>
        owners.every(([workload, owner]) => {
          const found = routes.forWorkload(workload).peekOwner(key);
          return (found?.kind === 'sandbox' ? found.sandboxName : found?.kind) === owner;
        }),
      { description: `the route tables to see ${key}`, timeoutMs: 10_000 },
    );
  }

  async function start(key: string, args: [string[], boolean?]) {
    const workflowId = `ow-${key}-${randomUUID().slice(0, 6)}`;
    const handle = await runWithRoutingKey(key, () =>
      client.workflow.start('otherWorkloads', { taskQueue: QUEUES.orders, workflowId, args }),
    );
    return { handle, workflowId };
  }

  const where = (result: (Observation & { attempt?: number })[]) =>
    result.map(
      (o) =>
        `${o.step}: ${o.instance ?? 'workflow'} on ${o.taskQueue}${o.attempt && o.attempt > 1 ? ` (attempt ${o.attempt})` : ''}`,
    );

  it('sends a charge to the sandbox that forks payments, first try, while the workflow stays on the baseline', async () => {
    const key = `kpay${id}`;
    await standIn.putSandbox('pay', key, [PAYMENTS]);
    await seen(key, [
      [PAYMENTS, 'pay'],
      [ORDERS, 'baseline'],
    ]);
    const { handle, workflowId } = await start(key, [[QUEUES.payments, QUEUES.solo]]);
    assert.deepEqual(where(await handle.result()), [
      `workflow: workflow on ${QUEUES.orders}`,
      `activity@${QUEUES.payments}: pay on ${QUEUES.payments}@pay`,
      // A queue nobody declared: exactly as the workflow wrote it.
      `activity@${QUEUES.solo}: solo on ${QUEUES.solo}`,
    ]);
    // Deterministic: the recorded decisions replay the same.
    for (const recorded of await runHistories(client, workflowId)) {
      await Worker.runReplayHistory(
        { workflowsPath: WORKFLOWS, interceptors: { workflowModules: [ROUTING_WORKFLOW_INTERCEPTORS] } },
        recorded.history,
        recorded.workflowId,
      );
    }
  });

  it('a sandbox forking orders and payments; a RouteGroup over two sandboxes that fork one each', async () => {
    const both = `kboth${id}`;
    const group = `kgrp${id}`;
    await standIn.putSandbox('ord', both, [ORDERS, PAYMENTS]);
    await standIn.putSandbox('pay', `kpay${id}`, [PAYMENTS]);
    await standIn.admin('PUT', `/admin/routegroups/g-${id}`, {
      routingKey: group,
      sandboxes: ['ord', 'pay'],
    });
    await seen(both, [
      [ORDERS, 'ord'],
      [PAYMENTS, 'ord'],
    ]);
    // The group's rules: `ord` and `pay` both fork payments; as in Signadot, the first by name wins.
    await seen(group, [
      [ORDERS, 'ord'],
      [PAYMENTS, 'ord'],
    ]);
    const { handle } = await start(both, [[QUEUES.payments]]);
    assert.deepEqual(where(await handle.result()), [
      `workflow: workflow on ${QUEUES.orders}@ord`,
      `activity@${QUEUES.payments}: ord on ${QUEUES.payments}@ord`,
    ]);
    // Now `ord` forks orders only: the group's key reaches `ord` for orders and `pay` for payments.
    await standIn.putSandbox('ord', both, [ORDERS]);
    await seen(group, [
      [ORDERS, 'ord'],
      [PAYMENTS, 'pay'],
    ]);
    const grouped = await start(group, [[QUEUES.payments]]);
    assert.deepEqual(where(await grouped.handle.result()), [
      `workflow: workflow on ${QUEUES.orders}@ord`,
      `activity@${QUEUES.payments}: pay on ${QUEUES.payments}@pay`,
    ]);
  });

  it('follows the rules in force when each step is scheduled: a sandbox created, then deleted, mid-flight', async () => {
    const key = `kmid${id}`;
    await plainWorker(`${QUEUES.payments}@paymid`, 'paymid');
    const { handle } = await start(key, [[QUEUES.payments, QUEUES.payments, QUEUES.payments], true]);
    const ran = () => calls.filter((c) => c.taskQueue.startsWith(QUEUES.payments)).length;
    const before = ran();
    const stepped = (count: number) =>
      pollUntil(async () => ran() >= before + count, { description: `step ${count}`, timeoutMs: 10_000 });
    // The first charge ran with no sandbox; the sandbox arrives; the second charge goes to it.
    await stepped(1);
    await standIn.putSandbox('paymid', key, [PAYMENTS]);
    await seen(key, [[PAYMENTS, 'paymid']]);
    await handle.signal('nextStep');
    await stepped(2);
    // The sandbox goes; the third charge is the baseline's again, not stranded on a dead queue.
    await standIn.admin('DELETE', '/admin/sandboxes/paymid');
    await seen(key, [[PAYMENTS, 'baseline']]);
    await handle.signal('nextStep');
    assert.deepEqual(where(await handle.result()), [
      `workflow: workflow on ${QUEUES.orders}`,
      `activity@${QUEUES.payments}: baseline on ${QUEUES.payments}`,
      `activity@${QUEUES.payments}: paymid on ${QUEUES.payments}@paymid`,
      `activity@${QUEUES.payments}: baseline on ${QUEUES.payments}`,
    ]);
  });
});
