import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stackEnv } from '@sandbox-routing/testkit';
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
    assert.equal(report.version, 1);
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
      assert.equal(owner.lost, 0, `${owner.name} lost`);
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
    assert.match(run.stdout, /owner\s+sent\s+started\s+completed\s+misrouted\s+lost/);
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
        'lost==0',
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
        ['lost==0', true],
      ],
    );
    assert.equal(report.overall.lost, 0);
    assert.match(run.stdout, /✗ p99<1ms/);
    assert.match(run.stdout, /FAILED: threshold p99<1ms not met/);
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
});
