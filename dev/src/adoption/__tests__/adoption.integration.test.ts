/**
 * Issue 20: a team adopts sandbox routing by adding the plugin to the Client and Worker of an app of
 * their own. `examples/hello-world` is such an app, written the way Temporal's samples are (its own
 * package.json; client.ts, worker.ts, workflows.ts, activities.ts; nothing of this project). The test
 * copies it, applies `sandbox-routing.patch` (what a team would change), installs the library's packed
 * tarballs as a user would, builds it with its own TypeScript, and runs a baseline worker and a fork's
 * worker against the local stack.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pollUntil, type RunningProcess, runProcess, stackEnv, startProcess } from '@sandbox-routing/testkit';
import { Client, Connection } from '@temporalio/client';
import { REPO_ROOT } from '../../stack/paths';
import { LIBRARY_PACKAGES, npmInstall, packLibrary } from '../packages';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const EXAMPLE = path.join(REPO_ROOT, 'examples', 'hello-world');
const PATCH = path.join(EXAMPLE, 'sandbox-routing.patch');
const BASELINE = { kind: 'Deployment', namespace: 'local', name: `hello-${id}` };
const SANDBOX = { name: `hw-${id}`, key: `khw${id}` };
const QUEUE = 'hello-world';
/** The most lines a team may have to change (issue 20). */
const LINE_BUDGET = 10;

async function standIn(method: 'PUT' | 'DELETE', adminPath: string, body?: unknown): Promise<void> {
  const response = await fetch(`${stack.SIGNADOT_ROUTESERVER_URL}${adminPath}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok && response.status !== 404) throw new Error(`${method} ${adminPath}: ${response.status}`);
}

/** Lines the patch adds or changes: what a team writes. */
function changedLines(patch: string): string[] {
  return patch.split('\n').filter((line) => line.startsWith('+') && !line.startsWith('+++'));
}

describe('a Temporal sample app adopts sandbox routing with the plugin', () => {
  let app: string;
  let client: Client;
  let connection: Connection;
  const workers: RunningProcess[] = [];
  const env = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
    // What Signadot gives the pods of a workload, and where its routeserver is.
    SIGNADOT_BASELINE_KIND: BASELINE.kind,
    SIGNADOT_BASELINE_NAMESPACE: BASELINE.namespace,
    SIGNADOT_BASELINE_NAME: BASELINE.name,
    SIGNADOT_ROUTESERVER_URL: stack.SIGNADOT_ROUTESERVER_URL,
    SIGNADOT_ROUTESERVER_GRPC_ADDRESS: stack.SIGNADOT_ROUTESERVER_GRPC_ADDRESS,
    ...extra,
  });

  before(async () => {
    const tarballs = await packLibrary();
    app = mkdtempSync(path.join(tmpdir(), 'hello-world-'));
    cpSync(EXAMPLE, app, { recursive: true, filter: (source) => !/node_modules|[/\\]lib$/.test(source) });
    const patched = await runProcess('patch', ['-p1', '--forward', '-i', PATCH], { cwd: app });
    assert.equal(patched.code, 0, `the patch applies to the sample: ${patched.stdout}${patched.stderr}`);
    await npmInstall(app, [tarballs.core, tarballs.temporal]);
    const built = await runProcess(path.join(app, 'node_modules', '.bin', 'tsc'), ['--build'], { cwd: app });
    assert.equal(built.code, 0, `the app builds with its own TypeScript:\n${built.stdout}${built.stderr}`);
    await standIn('PUT', `/admin/sandboxes/${SANDBOX.name}`, { routingKey: SANDBOX.key, forks: [BASELINE] });
    connection = await Connection.connect({ address: stack.TEMPORAL_ADDRESS });
    client = new Client({ connection });
    for (const sandboxName of ['', SANDBOX.name]) {
      workers.push(
        startProcess(process.execPath, ['lib/worker.js'], {
          cwd: app,
          inheritEnv: false,
          env: env({ SIGNADOT_SANDBOX_NAME: sandboxName }),
          timeoutMs: 600_000,
        }),
      );
    }
    // Ready when both queues have a poller: the baseline's and the fork's own.
    for (const queue of [QUEUE, `${QUEUE}@${SANDBOX.name}`]) {
      await pollUntil(
        async () => {
          const described = await client.workflowService.describeTaskQueue({
            namespace: 'default',
            taskQueue: { name: queue },
          });
          return (described.pollers?.length ?? 0) > 0;
        },
        { description: `a worker polling ${queue}`, timeoutMs: 60_000, intervalMs: 250 },
      );
    }
  });

  after(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await connection?.close();
    await standIn('DELETE', `/admin/sandboxes/${SANDBOX.name}`);
    if (app) rmSync(app, { recursive: true, force: true });
  });

  /** Runs the app's client (`npm run workflow`'s command) and returns what it printed. */
  async function runClient(
    extra: Record<string, string>,
  ): Promise<{ greeting: string; workflowTaskQueue: string }> {
    const run = await runProcess(process.execPath, ['lib/client.js'], {
      cwd: app,
      inheritEnv: false,
      env: env(extra),
    });
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '');
  }

  it(`changes at most ${LINE_BUDGET} lines of the app`, () => {
    const lines = changedLines(readFileSync(PATCH, 'utf8'));
    console.log(`adoption: ${lines.length} lines changed\n${lines.join('\n')}`);
    assert.ok(lines.length <= LINE_BUDGET, `${lines.length} lines`);
  });

  it("runs the sandbox's key on its fork, workflow and activity, and everything else on the baseline", async () => {
    const forked = await runClient({ ROUTING_KEY: SANDBOX.key });
    assert.equal(forked.workflowTaskQueue, `${QUEUE}@${SANDBOX.name}`);
    assert.match(forked.greeting, new RegExp(`from the worker on ${QUEUE}@${SANDBOX.name}\\)`));
    for (const extra of [{}, { ROUTING_KEY: `nosandbox${id}` }] as Record<string, string>[]) {
      const baseline = await runClient(extra);
      assert.equal(baseline.workflowTaskQueue, QUEUE);
      assert.match(baseline.greeting, new RegExp(`from the worker on ${QUEUE}\\)`));
    }
  });

  it('with the application declared, the client starts the fork’s work on its queue at once (no redirect)', async () => {
    const declaration = path.join(app, 'application.yaml');
    writeFileSync(
      declaration,
      `workloads:\n  - name: hello\n    baseline: { name: ${BASELINE.name} }\n    taskQueues: [${QUEUE}]\n`,
    );
    const before = new Date();
    const result = await runClient({ ROUTING_KEY: SANDBOX.key, ROUTING_APPLICATION_FILE: declaration });
    assert.equal(result.workflowTaskQueue, `${QUEUE}@${SANDBOX.name}`);
    // Door-routed: the fork's run is the workflow's first, not one it continued into.
    const runs = [];
    for await (const workflow of client.workflow.list({
      query: `TaskQueue = '${QUEUE}@${SANDBOX.name}' AND StartTime >= '${before.toISOString()}'`,
    })) {
      runs.push(workflow);
    }
    assert.ok(runs.length > 0, 'the run is listed');
    for (const run of runs) {
      const described = await client.workflow.getHandle(run.workflowId, run.runId).describe();
      assert.equal(
        described.raw.workflowExecutionInfo?.firstRunId ?? run.runId,
        run.runId,
        'no redirect hop',
      );
    }
  });

  it('its workers stop on SIGTERM and exit 0: the plugin lets the process end', async () => {
    for (const worker of workers) worker.kill('SIGTERM');
    for (const worker of workers) {
      const exit = await worker.done;
      assert.equal(exit.code, 0, exit.stderr);
    }
    workers.length = 0;
  });
});

describe('each library package installs from its tarball into an empty project', () => {
  it('and every entry point loads there; the core depends on none of the others', async () => {
    const tarballs = await packLibrary();
    const project = mkdtempSync(path.join(tmpdir(), 'empty-project-'));
    try {
      writeFileSync(
        path.join(project, 'package.json'),
        '{"name":"empty","version":"1.0.0","private":true}\n',
      );
      await npmInstall(project, Object.values(tarballs));
      const entries = [
        ...LIBRARY_PACKAGES.map((p) => `@sandbox-routing/${p}`),
        '@sandbox-routing/core/workflow',
        '@sandbox-routing/temporal/workflow',
        '@sandbox-routing/service-kit/instrumentation',
      ];
      for (const entry of entries) {
        const loaded = await runProcess(process.execPath, ['-e', `require(${JSON.stringify(entry)})`], {
          cwd: project,
        });
        assert.equal(loaded.code, 0, `${entry}: ${loaded.stderr}`);
      }
      const core = JSON.parse(
        readFileSync(path.join(project, 'node_modules', '@sandbox-routing', 'core', 'package.json'), 'utf8'),
      ) as { dependencies: Record<string, string> };
      assert.deepEqual(
        Object.keys(core.dependencies).filter((d) =>
          /temporal|kafka|fastify|pino|convict|@sandbox-routing/.test(d),
        ),
        [],
      );
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
