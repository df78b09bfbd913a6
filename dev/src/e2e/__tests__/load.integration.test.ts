import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pollUntil, stackEnv } from '@sandbox-routing/testkit';
import { runLoadCli } from '../../bench/load-cli';
import { Pipeline } from '../../pipeline/pipeline';
import { STACK_DIR } from '../../stack/paths';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const SANDBOX = { name: `ld-${id}`, key: `ld${id}routingkey` };

describe('producer load against the pipeline', () => {
  let pipeline: Pipeline;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'load-test-'));
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-load-${id}`), {
      LOG_LEVEL: 'warn',
    });
    // The sandbox forks the worker only: the baseline ingress starts its workflows on its queue.
    await pipeline.registerSandbox(SANDBOX.name, SANDBOX.key, ['worker']);
    await Promise.all([pipeline.startWorker(), pipeline.startIngress(), pipeline.startWorker(SANDBOX.name)]);
  });

  after(async () => {
    await pipeline?.stop();
    await pipeline?.deleteSandbox(SANDBOX.name);
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends to the baseline and a sandbox (looked up by name) and reports every event where it belongs', async () => {
    const chart = path.join(dir, 'load.html');
    const run = await runLoadCli(
      pipeline,
      stack,
      [
        '--baseline',
        '--sandbox',
        SANDBOX.name,
        '--rate',
        '4',
        '--duration',
        '3s',
        '--drain-timeout',
        '60s',
        '--chart',
        chart,
      ],
      path.join(dir, 'load.json'),
    );
    assert.equal(run.code, 0, `exit ${run.code}\n${run.stdout}\n${run.stderr}`);
    const report = run.report;
    assert.ok(report, 'a JSON report');
    assert.equal(report.version, 2);
    assert.deepEqual(
      report.owners.map((o) => [o.name, o.routingKey, o.expected.worker]),
      [
        ['baseline', null, 'baseline'],
        [SANDBOX.name, SANDBOX.key, SANDBOX.name],
      ],
    );
    for (const owner of report.owners) {
      assert.equal(owner.sent, 12, `${owner.name}: 4/s for 3 s`);
      assert.equal(owner.started, 12, `${owner.name} started`);
      assert.equal(owner.completed, 12, `${owner.name} completed`);
      assert.equal(owner.misrouted, 0, `${owner.name} misrouted: ${owner.examples.misrouted.join('; ')}`);
      assert.equal(owner.unfinished, 0, `${owner.name} unfinished`);
      assert.equal(owner.duplicates, 0, `${owner.name} duplicates`);
      assert.equal(owner.latencyMs.count, 12);
      const { p50, p99, max } = owner.latencyMs;
      assert.ok(
        p50 !== null && p99 !== null && max !== null && 0 < p50 && p50 <= p99 && p99 <= max,
        JSON.stringify(owner.latencyMs),
      );
      assert.ok(owner.histogram.length > 0, 'encoded histogram');
      assert.equal(
        owner.timeline.reduce((sum, b) => sum + b.sent, 0),
        12,
        'the timeline covers every event',
      );
    }
    assert.equal(report.overall.sent, 24);
    assert.equal(report.overall.completed, 24);
    assert.equal(report.passed, true, report.failures.join('; '));
    assert.match(run.stdout, /owner\s+sent\s+decided\s+started\s+completed\s+unfinished\s+misrouted/);
    assert.match(run.stdout, /^passed$/m);
    assert.ok(existsSync(chart));
    assert.match(readFileSync(chart, 'utf8'), /<svg[^>]*>.*publish → completed/s);
  });

  it('exits with 99 when a threshold is breached, and says which', async () => {
    const run = await runLoadCli(
      pipeline,
      stack,
      [
        '--baseline',
        '--rate',
        '2',
        '--duration',
        '1s',
        '--drain-timeout',
        '60s',
        '--threshold',
        'p99<1ms',
        '--threshold',
        'unfinished==0',
      ],
      path.join(dir, 'breach.json'),
    );
    assert.equal(run.code, 99, `exit ${run.code}\n${run.stdout}\n${run.stderr}`);
    const report = run.report;
    assert.ok(report);
    assert.equal(report.passed, false);
    assert.deepEqual(
      report.thresholds.map((t) => [t.expression, t.ok]),
      [
        ['p99<1ms', false],
        ['unfinished==0', true],
      ],
    );
    assert.equal(report.overall.unfinished, 0);
    assert.match(run.stdout, /✗ p99<1ms/);
    assert.match(run.stdout, /^FAILED: 1 threshold not met \(✗ above\)$/m);
  });

  it('refuses a sandbox the routeserver does not know, before sending anything', async () => {
    const run = await runLoadCli(
      pipeline,
      stack,
      ['--sandbox', `nope-${id}`, '--duration', '1s'],
      path.join(dir, 'none.json'),
    );
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`--sandbox nope-${id}: no routing rule leads to it`));
    assert.equal(run.report, undefined);
  });

  // Last: it stops and restarts the baseline's services.
  it('on a pipeline with a backlog, warns before sending how much, and says what the drain did not see finish is unfinished, per Temporal', async () => {
    const service = (name: string) => {
      const found = pipeline.services.find((s) => s.name === name);
      assert.ok(found, `${name} runs`);
      return found;
    };
    const running = async () =>
      (
        await pipeline
          .temporal()
          .workflow.count(`TaskQueue = "${pipeline.taskQueue}" AND ExecutionStatus = "Running"`)
      ).count;
    // Left by an earlier run: 4 workflows the baseline worker (stopped) has not run, and 6 events the
    // ingress (stopped after starting those) has not read.
    await pipeline.stopService(service('worker-baseline'));
    const waiting = [...(await pipeline.publish({ idPrefix: `backlog-${id}-a`, count: 4 })).events].map(
      (e) => e.id,
    );
    await pollUntil(async () => (await running()) === 4, {
      description: '4 workflows open on the baseline queue',
      timeoutMs: 60_000,
    });
    await pipeline.stopService(service('ingress-baseline'));
    waiting.push(
      ...(await pipeline.publish({ idPrefix: `backlog-${id}-b`, count: 6 })).events.map((e) => e.id),
    );

    const args = ['--baseline', '--rate', '2', '--duration', '1s', '--drain-timeout', '3s'];
    const before = await runLoadCli(pipeline, stack, args, path.join(dir, 'backlog-1.json'));
    assert.equal(before.code, 99, `exit ${before.code}\n${before.stdout}\n${before.stderr}`);
    assert.match(
      before.stderr,
      new RegExp(
        `warning: work is waiting before this run: 6 events on ${pipeline.topic} not read yet by the ingress \\(group ${pipeline.consumerGroup}\\); 4 workflows open on ${pipeline.taskQueue} \\(baseline\\)`,
      ),
    );
    assert.ok(before.report);
    assert.deepEqual(before.report.backlog?.ingress?.waiting, 6);
    assert.deepEqual(before.report.backlog?.queues, [
      { owner: 'baseline', taskQueue: pipeline.taskQueue, running: 4 },
    ]);
    // The ingress is down: nothing of this run was started, and Temporal has no workflow for it.
    assert.equal(before.report.overall.unfinished, 2);
    assert.deepEqual(before.report.overall.unfinishedInTemporal, {
      running: 0,
      closed: 0,
      notStarted: 2,
      notAsked: 0,
    });
    assert.match(
      before.stdout,
      /^FAILED: baseline: 2 unfinished at the end of the drain \(2 with no workflow yet/m,
    );
    assert.doesNotMatch(before.stdout, /\blost\b/);

    // The ingress is back and has read everything; the worker is still away.
    await pipeline.startIngress();
    await pollUntil(async () => (await running()) === 12, {
      description: 'the waiting events and the first run started, none run',
      timeoutMs: 60_000,
    });
    const after = await runLoadCli(
      pipeline,
      stack,
      [...args, '--drain-timeout', '10s'],
      path.join(dir, 'backlog-2.json'),
    );
    assert.equal(after.code, 99, `exit ${after.code}\n${after.stdout}\n${after.stderr}`);
    assert.ok(after.report);
    assert.equal(after.report.backlog?.ingress?.waiting, 0);
    assert.match(after.stderr, /warning: work is waiting before this run: 12 workflows open/);
    assert.deepEqual(after.report.overall.unfinishedInTemporal, {
      running: 2,
      closed: 0,
      notStarted: 0,
      notAsked: 0,
    });
    assert.match(
      after.stdout,
      /2 unfinished at the end of the drain \(2 still running in Temporal \(late\)\)/,
    );

    // Everything completes once the worker is back: late, not lost.
    await pipeline.startWorker();
    const runs = [before.report, after.report].flatMap((r) => [1, 2].map((n) => `${r.idPrefix}0-${n}`));
    const outcomes = await pipeline.awaitOutcomes([...waiting, ...runs], 120_000);
    assert.equal(outcomes.size, 14);
  });
});
