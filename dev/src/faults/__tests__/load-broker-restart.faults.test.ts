import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventIdOfWorkflow } from '@sandbox-routing/sample';
import { pollUntil, stackEnv } from '@sandbox-routing/testkit';
import { runLoadCli } from '../../bench/load-cli';
import { Pipeline } from '../../pipeline/pipeline';
import { STACK_DIR } from '../../stack/paths';
import { stopService, up } from '../../stack/stack';

/**
 * `producer load` through a broker restart (fault suite, `npm run test:faults`): its events keep
 * going out (late, retried) and its trail reader goes on where it was, so its report must match
 * Temporal's own count exactly: as many workflows as events sent, each completed, per owner. Before,
 * the reader rejoined at the end of the results topic and reported completed events as lost.
 *
 * Bounded: 1 event/s for each of two owners (2/s, well below what even a busy shared machine
 * sustains) for 45 s, then a drain that ends when everything completed, at most 90 s later; about two
 * minutes in all.
 */
const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const SANDBOX = { name: `lbr-${id}`, key: `lbr${id}key` };

describe('producer load through a broker restart', () => {
  let pipeline: Pipeline;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'load-restart-'));
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `faults-load-${id}`), {
      LOG_LEVEL: 'info',
    });
    // The sandbox forks the worker only: the baseline ingress starts its workflows on its queue.
    await pipeline.registerSandbox(SANDBOX.name, SANDBOX.key, ['worker']);
    await Promise.all([pipeline.startWorker(), pipeline.startIngress(), pipeline.startWorker(SANDBOX.name)]);
  });

  after(async () => {
    await up(); // whatever happened, leave the stack whole
    await pipeline?.stop();
    await pipeline?.deleteSandbox(SANDBOX.name);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports every event sent as completed, exactly as many as Temporal ran, per owner', async () => {
    const ingress = pipeline.services.find((s) => s.name === 'ingress-baseline');
    assert.ok(ingress);
    const running = runLoadCli(
      pipeline,
      stack,
      [
        '--baseline',
        '--sandbox',
        SANDBOX.name,
        '--rate',
        '1',
        '--duration',
        '45s',
        '--drain-timeout',
        '90s',
        '--quiet',
      ],
      path.join(dir, 'load.json'),
      240_000,
    );
    // Mid-run: once the pipeline has moved a good part of the events, the broker restarts.
    await pollUntil(
      async () =>
        (await pipeline.metric(ingress, 'sandbox_routing_ingress_events_total').catch(() => 0)) >= 30,
      { description: 'the ingress to handle 30 events of the run', timeoutMs: 60_000, intervalMs: 250 },
    );
    await stopService('kafka');
    await up();
    const run = await running;
    const report = run.report;
    assert.ok(report, `a report (exit ${run.code}):\n${run.stderr}`);

    // Temporal's own count: the workflows of this run (one per event; the latest run of each).
    const latest = new Map<string, { status: string; start: number }>();
    for await (const workflow of pipeline.temporal().workflow.list({
      query: `WorkflowId STARTS_WITH "evt-${report.idPrefix}"`,
    })) {
      const seen = latest.get(workflow.workflowId);
      if (!seen || workflow.startTime.getTime() > seen.start) {
        latest.set(workflow.workflowId, {
          status: workflow.status.name,
          start: workflow.startTime.getTime(),
        });
      }
    }
    const ofOwner = (index: number) =>
      [...latest].filter(([workflowId]) =>
        eventIdOfWorkflow(workflowId)?.startsWith(`${report.idPrefix}${index}-`),
      );
    const counts = report.owners.map((owner, index) => ({
      owner: owner.name,
      report: {
        sent: owner.sent,
        completed: owner.completed,
        unfinished: owner.unfinished,
        inTemporal: owner.unfinishedInTemporal,
      },
      temporal: {
        workflows: ofOwner(index).length,
        completed: ofOwner(index).filter(([, w]) => w.status === 'COMPLETED').length,
      },
    }));
    console.log(
      `load through a broker restart: ${JSON.stringify(counts)}; ${report.overall.sendRetried} sent late (retried), ` +
        `${report.overall.sendFailures} send failures, ${report.overall.duplicates} duplicates, exit ${run.code}`,
    );
    for (const { owner, report: mine, temporal } of counts) {
      assert.equal(mine.sent, temporal.workflows, `${owner}: events sent = workflows Temporal has`);
      assert.equal(mine.completed, temporal.completed, `${owner}: completed = completed in Temporal`);
      assert.equal(temporal.completed, temporal.workflows, `${owner}: every workflow completed`);
      assert.equal(mine.unfinished, 0, `${owner}: nothing unfinished`);
    }
    assert.equal(latest.size, report.overall.sent);
    assert.ok(report.overall.sendRetried > 0, 'some sends were due while the broker was away: retried');
    assert.equal(report.overall.sendFailures, 0, 'none failed for good');
    assert.equal(report.overall.duplicates, 0);
    assert.equal(report.overall.misrouted, 0, report.owners.flatMap((o) => o.examples.misrouted).join('\n'));
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  });
});
