import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runProcess, stackEnv } from '@sandbox-routing/testkit';
import { Pipeline } from '../../pipeline/pipeline';
import type { ServiceProcess } from '../../pipeline/service-process';
import { REPO_ROOT, STACK_DIR } from '../../stack/paths';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const env = { ROUTESERVER_REFRESH_INTERVAL_MS: '500', LOG_LEVEL: 'info' };

/**
 * Legal sandbox names that read like something else: `baseline` itself (Signadot's names are DNS-like
 * labels, and nothing reserves it), and the longest legal name in mixed case. Each must be told from the
 * baseline everywhere: topics, task queues, search attributes, labels, trail records.
 */
const NAMED_BASELINE = { name: 'baseline', key: `kb${id}named`, label: 'sandbox:baseline' };
const LONGEST = { name: `Z${id}${'x'.repeat(28 - id.length)}9`, key: `kl${id}longest` };

describe('sandboxes with odd but legal names', () => {
  let pipeline: Pipeline;
  let namedIngress: ServiceProcess;
  let baselineIngress: ServiceProcess;

  before(async () => {
    assert.equal(LONGEST.name.length, 30);
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-sandbox-names-${id}`), env);
    await pipeline.registerSandbox(NAMED_BASELINE.name, NAMED_BASELINE.key, ['ingress', 'worker']);
    await pipeline.registerSandbox(LONGEST.name, LONGEST.key, ['worker']);
    const services = await pipeline.startServices([
      { name: NAMED_BASELINE.name, forks: ['ingress', 'worker'] },
      { name: LONGEST.name, forks: ['worker'] },
    ]);
    baselineIngress = services[0] as ServiceProcess;
    namedIngress = services[2] as ServiceProcess;
  });

  after(async () => {
    await pipeline?.stop();
    await Promise.all([pipeline?.deleteSandbox(NAMED_BASELINE.name), pipeline?.deleteSandbox(LONGEST.name)]);
  });

  it('runs a sandbox named "baseline" on its forks, and the baseline on the baseline', async () => {
    const cases = [
      { key: '', expected: 'baseline', pricing: 'standard' },
      { key: NAMED_BASELINE.key, expected: NAMED_BASELINE.label, pricing: 'v2-discount' },
    ];
    for (const [index, c] of cases.entries()) {
      const summary = await pipeline.publish({ routingKey: c.key, count: 5, idPrefix: `n${id}-${index}` });
      assert.equal(summary.sent, 5);
      const outcomes = await pipeline.awaitOutcomes(summary.events.map((e) => e.id));
      for (const outcome of outcomes.values()) {
        assert.equal(outcome.status, 'COMPLETED');
        assert.deepEqual(
          {
            ingestedBy: outcome.ingestedBy,
            ranOn: outcome.ranOn,
            activities: [...new Set(outcome.activitiesOn)],
          },
          { ingestedBy: c.expected, ranOn: c.expected, activities: [c.expected] },
          `key "${c.key}"`,
        );
        assert.equal(outcome.pricing, c.pricing);
      }
    }
    // The fork's workflows are found by its own search attribute value, never mixed with the baseline's.
    const client = pipeline.temporal();
    const labelled = await client.workflow.count(
      `TaskQueue = '${pipeline.taskQueue}@baseline' AND SignadotSandbox = '${NAMED_BASELINE.label}'`,
    );
    assert.equal(labelled.count, 5);
  });

  it('runs the longest legal name, in mixed case', async () => {
    const summary = await pipeline.publish({ routingKey: LONGEST.key, count: 3, idPrefix: `l${id}` });
    const outcomes = await pipeline.awaitOutcomes(summary.events.map((e) => e.id));
    for (const outcome of outcomes.values()) {
      assert.equal(outcome.ranOn, LONGEST.name);
      assert.equal(outcome.ingestedBy, 'baseline');
    }
  });

  it('tears a sandbox named "baseline" down: what its ingress left goes back to the baseline', async () => {
    await pipeline.stopService(namedIngress);
    const summary = await pipeline.publish({ routingKey: NAMED_BASELINE.key, count: 20, idPrefix: `t${id}` });
    assert.equal(summary.sent, 20);
    await pipeline.awaitMetric(
      baselineIngress,
      {
        name: 'sandbox_routing_ingress_events_total',
        labels: `action="forwarded",owner="${NAMED_BASELINE.label}"`,
        atLeast: 20,
      },
      { description: '20 events forwarded to the sandbox named baseline', timeoutMs: 60_000 },
    );
    await pipeline.deleteSandbox(NAMED_BASELINE.name);
    const teardown = await pipeline.teardownIngress(NAMED_BASELINE.name, '--fence-timeout', '120');
    assert.equal(teardown.code, 0, `${teardown.stdout}\n${teardown.stderr}`);
    const outcomes = await pipeline.awaitOutcomes(summary.events.map((e) => e.id));
    for (const outcome of outcomes.values()) {
      assert.equal(outcome.ranOn, 'baseline');
      assert.equal(outcome.ingestedBy, 'baseline');
    }
    // And the worker's teardown takes the name too (nothing left open on its queue).
    const workerTeardown = await runProcess(
      'node',
      [path.join(REPO_ROOT, 'worker/dist/teardown.js'), '--sandbox', NAMED_BASELINE.name, '--json'],
      {
        env: {
          TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
          TEMPORAL_TASK_QUEUE: pipeline.taskQueue,
          LOG_LEVEL: 'warn',
        },
      },
    );
    assert.equal(workerTeardown.code, 0, workerTeardown.stderr);
  });
});
