/**
 * The first-task check under time skipping (`@temporalio/testing`): a timer and a child workflow the
 * workflow starts in its first activation, while the route check runs, are held until the check answers,
 * then sent in the order issued (stay) or dropped (redirect: the owner's run starts its own). The 1 h
 * timer is skipped once sent.
 *
 * Runs Temporal's Java test server (from Maven Central, `stack install temporal-test-server`) instead of
 * the dev server: `@temporalio/testing` would download its native test server from GitHub releases, and
 * `createTimeSkipping` gives the server 5 s to listen, less than a JVM takes on a busy machine. So the
 * test starts the server itself and connects the way `createTimeSkipping` does once it is up.
 *
 * The server is started the way the SDKs' own harnesses start it: without `--enable-time-skipping`.
 * That flag drops the server's base time lock, and `result()`/`sleep()` then unlock the lock of whatever
 * is in flight (here the workflow task that keeps the held check alive), so the server skipped past the
 * task's timeout. With the base lock, time runs at wall-clock speed while a workflow task, activity or
 * child start is in flight, and jumps only when the run is idle (sdk-java temporal-test-server:
 * `TestServer.java` `createPortBoundServer(port, !enableTimeSkipping)`, `TestService.java` constructor).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BASELINE_OWNER, type Owner, type RouteTableStats, type WorkloadRoutes } from '@sandbox-routing/core';
import { createRoutingWorker } from '@sandbox-routing/temporal';
import {
  freePort,
  pollUntil,
  type RunningProcess,
  runHistories,
  startProcess,
} from '@sandbox-routing/testkit';
import type { ClientOptionsForTestEnv } from '@temporalio/testing';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { TEMPORAL_TEST_SERVER_MAIN, temporalTestServerClasspath } from '../../../stack/tools';
import type { HeldRunResult } from './fixtures/held-workflows';
import { foreignClientHeaders, uniqueKey, WORKER_BASELINE } from './routing-workers';

const HOUR_MS = 3_600_000;
const SANDBOX = 'sandbox-ts';

/** Route rules whose answer for a key waits until the test gives it: the check stays open till then. */
class GatedRoutes implements WorkloadRoutes {
  readonly baseline = WORKER_BASELINE;
  readonly synced = true;
  private readonly gates = new Map<
    string,
    { asked: boolean; answer: (owner: Owner) => void; owner: Promise<Owner> }
  >();

  private gate(key: string) {
    let gate = this.gates.get(key);
    if (!gate) {
      let answer!: (owner: Owner) => void;
      const owner = new Promise<Owner>((resolve) => {
        answer = resolve;
      });
      gate = { asked: false, answer, owner };
      this.gates.set(key, gate);
    }
    return gate;
  }

  ownerOf(key: string | undefined): Promise<Owner> {
    if (key === undefined) return Promise.resolve(BASELINE_OWNER);
    const gate = this.gate(key);
    gate.asked = true;
    return gate.owner;
  }

  asked(key: string): boolean {
    return this.gate(key).asked;
  }

  answer(key: string, owner: Owner): void {
    this.gate(key).answer(owner);
  }

  peekOwner(): Owner | undefined {
    return undefined;
  }

  async waitForFirstSync(): Promise<boolean> {
    return true;
  }

  stats(): RouteTableStats {
    return {
      mode: 'polling',
      synced: true,
      snapshotAgeMs: 0,
      rules: 0,
      keys: 0,
      fetches: 0,
      fetchErrors: 0,
      unknownKeyRefetches: 0,
      watchConnected: false,
      watchReconnects: 0,
      changesApplied: { ADD: 0, REMOVE: 0, REPLACE: 0 },
      lastError: undefined,
    };
  }
}

/** Temporal's Java test server with time skipping on a free loopback port, up once it accepts connections. */
async function startTestServer(): Promise<{ address: string; server: RunningProcess }> {
  const port = await freePort();
  const server = startProcess(
    'java',
    ['-cp', temporalTestServerClasspath(), TEMPORAL_TEST_SERVER_MAIN, String(port)],
    { timeoutMs: 10 * 60_000 },
  );
  let exited: string | undefined;
  void server.done.then((run) => {
    exited = `code ${run.code}, signal ${run.signal}: ${run.stderr.slice(-2000)}`;
  });
  await pollUntil(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.end();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
    {
      description: `the Java test server on port ${port}`,
      timeoutMs: 60_000,
      intervalMs: 100,
      abortIf: () => {
        if (exited) throw new Error(`the Java test server exited (${exited})`);
      },
    },
  );
  return { address: `127.0.0.1:${port}`, server };
}

/**
 * `createTimeSkipping` starts the server and then calls this with `supportsTimeSkipping`; it is private
 * in the typings only. Connecting to a server started here keeps the time-skipping client and `sleep`.
 */
type CreateEnvironment = (options: {
  server: { type: 'existing' };
  client?: ClientOptionsForTestEnv;
  supportsTimeSkipping: boolean;
  namespace: string;
  address: string;
}) => Promise<TestWorkflowEnvironment>;

type HistoryEvent = NonNullable<
  Awaited<ReturnType<typeof runHistories>>[number]['history']['events']
>[number];

/** Names of the events of one run, e.g. `TIMER_STARTED`, in order. */
function eventTypes(events: HistoryEvent[]): string[] {
  return events.map((event) => {
    const [name] = Object.keys(event).filter(
      (k) => k.endsWith('EventAttributes') && event[k as keyof HistoryEvent],
    );
    return (name ?? 'unknown').replace(/EventAttributes$/, '');
  });
}

// A run whose hour is not skipped fails here instead of waiting an hour.
describe('first-task check with time skipping: timers and children wait for the answer', {
  timeout: 5 * 60_000,
}, () => {
  let server: RunningProcess;
  let env: TestWorkflowEnvironment;
  const routes = new GatedRoutes();
  const sharedQueue = `time-skipping-${randomUUID().slice(0, 8)}`;
  const sandboxQueue = `${sharedQueue}@${SANDBOX}`;
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];
  /** Keys by workflow id: the client sends each workflow's key in `sd-routing-key`, as a plain client of another SDK. */
  const keys = new Map<string, string>();

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const started = await startTestServer();
    server = started.server;
    const create = (TestWorkflowEnvironment as unknown as { create: CreateEnvironment }).create.bind(
      TestWorkflowEnvironment,
    );
    env = await create({
      server: { type: 'existing' },
      supportsTimeSkipping: true,
      namespace: 'default',
      address: started.address,
      client: {
        interceptors: {
          workflow: [
            {
              startWithDetails: (input, next) => {
                const key = keys.get(input.options.workflowId);
                if (!key) return next(input);
                return (
                  foreignClientHeaders('sd-routing-key', key).startWithDetails?.(input, next) ?? next(input)
                );
              },
            },
          ],
        },
      },
    });
    for (const sandboxName of ['', SANDBOX]) {
      const worker = await createRoutingWorker(
        { connection: env.nativeConnection, workflowsPath: require.resolve('./fixtures/held-workflows') },
        { identity: { baseline: WORKER_BASELINE, sandboxName }, routeTable: routes, sharedQueue },
      );
      workers.push(worker);
      running.push(worker.run());
    }
  });

  after(async () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.allSettled(running);
    await env?.teardown();
    server?.kill('SIGTERM');
    await server?.done;
  });

  /** Starts `timerAndChild('1h')` on the shared queue with its own key; returns once the check is asking. */
  async function startHeld(prefix: string) {
    const key = uniqueKey(prefix);
    const workflowId = `${prefix}-${randomUUID()}`;
    keys.set(workflowId, key);
    const handle = await env.client.workflow.start('timerAndChild', {
      taskQueue: sharedQueue,
      workflowId,
      args: ['1h'],
      // Short, so that holding the check spans workflow task heartbeats (sent at 80% of it) in seconds.
      workflowTaskTimeout: '2s',
    });
    await pollUntil(() => routes.asked(key), {
      description: 'the route check to ask',
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    return { key, workflowId, handle };
  }

  /**
   * While the check is held, nothing the run issued has left it, not even with the workflow task
   * heartbeats that keep the held check's task alive past its 2 s timeout: waits for two of them first.
   */
  async function assertNothingLeft(workflowId: string): Promise<void> {
    let types: string[] = [];
    await pollUntil(
      async () => {
        const [run] = await runHistories(env.client, workflowId);
        types = eventTypes(run?.history.events ?? []);
        return types.filter((type) => type === 'workflowTaskCompleted').length >= 2;
      },
      { description: `two workflow task heartbeats of ${workflowId}`, timeoutMs: 30_000, intervalMs: 100 },
    );
    for (const type of ['timerStarted', 'startChildWorkflowExecutionInitiated', 'markerRecorded'])
      assert.ok(!types.includes(type), `no ${type} while held: ${types.join(', ')}`);
  }

  /**
   * The workflow's result, with time skipping unlocked while waiting (the time-skipping client's
   * `result()`), following a continue-as-new. The server keeps its own lock while a workflow task or
   * child start is in flight, so only idle time (the 1 h timer) is skipped: without skipping, this
   * would wait an hour and the suite's timeout fails it.
   */
  async function resultSkippingTime(workflowId: string): Promise<HeldRunResult> {
    return (await env.client.workflow.getHandle(workflowId).result()) as HeldRunResult;
  }

  it('stay: the held timer and child go out after the answer, in the order issued; the 1 h timer is skipped', async () => {
    const { key, workflowId } = await startHeld('ts');
    await assertNothingLeft(workflowId);
    routes.answer(key, BASELINE_OWNER);
    const result = await resultSkippingTime(workflowId);

    assert.equal(result.taskQueue, sharedQueue);
    assert.equal(result.childTaskQueue, sharedQueue);
    assert.ok(result.timerFiredAtMs - result.startedAtMs >= HOUR_MS);
    const [run] = await runHistories(env.client, workflowId);
    const types = eventTypes(run?.history.events ?? []);
    // Issued in the first activation, before the check answered: without the hold they would be sent
    // with the first workflow task, before the check's marker. Held, they follow it, in issue order.
    const marker = types.indexOf('markerRecorded');
    const timer = types.indexOf('timerStarted');
    const child = types.indexOf('startChildWorkflowExecutionInitiated');
    assert.ok(
      marker >= 0 && marker < timer && timer < child,
      `check, then timer, then child: ${types.join(', ')}`,
    );
  });

  it('redirect: the held timer and child are dropped; the owner’s run starts its own', async () => {
    const { key, workflowId } = await startHeld('tr');
    await assertNothingLeft(workflowId);
    routes.answer(key, { kind: 'sandbox', sandboxName: SANDBOX });
    const result = await resultSkippingTime(workflowId);

    assert.equal(result.taskQueue, sandboxQueue);
    assert.equal(result.childTaskQueue, sandboxQueue);
    assert.ok(
      result.timerFiredAtMs - result.startedAtMs >= HOUR_MS,
      `the owner's timer ran its hour: ${result.timerFiredAtMs - result.startedAtMs} ms`,
    );

    const runs = await runHistories(env.client, workflowId);
    assert.equal(runs.length, 2, 'the first run continued as new on the owner’s queue');
    const types = eventTypes(runs[1]?.history.events ?? []);
    for (const type of ['timerStarted', 'timerFired', 'startChildWorkflowExecutionInitiated'])
      assert.ok(!types.includes(type), `first run: no ${type}: ${types.join(', ')}`);
    assert.equal(types.at(-1), 'workflowExecutionContinuedAsNew');
  });
});
