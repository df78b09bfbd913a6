import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stackEnv } from '@sandbox-routing/testkit';
import { Pipeline } from '../../pipeline/pipeline';
import type { ServiceProcess } from '../../pipeline/service-process';
import { STACK_DIR } from '../../stack/paths';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const env = { ROUTESERVER_REFRESH_INTERVAL_MS: '500', LOG_LEVEL: 'info' };

describe('sandbox topics: forks that start late, and teardown', () => {
  let pipeline: Pipeline;
  let baselineIngress: ServiceProcess;

  before(async () => {
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-sandbox-topics-${id}`), env);
    await pipeline.startWorker();
    baselineIngress = await pipeline.startIngress();
  });

  after(async () => {
    await pipeline?.stop();
  });

  it("gives a fork's ingress started 30 s after its sandbox every event sent in between", async () => {
    const sandbox = { name: `late-${id}`, key: `klate${id}` };
    await pipeline.registerSandbox(sandbox.name, sandbox.key, ['ingress', 'worker']);
    await pipeline.startWorker(sandbox.name);
    // One event a second for 30 s while the sandbox exists and its ingress is not running yet.
    const published = await pipeline.publish({
      routingKey: sandbox.key,
      count: 30,
      rate: 1,
      idPrefix: sandbox.key,
    });
    assert.equal(published.sent, 30);
    await pipeline.startIngress(sandbox.name);
    const outcomes = await pipeline.awaitOutcomes(published.events.map((e) => e.id));
    for (const [eventId, outcome] of outcomes) {
      assert.deepEqual(
        { ingestedBy: outcome.ingestedBy, ranOn: outcome.ranOn },
        { ingestedBy: sandbox.name, ranOn: sandbox.name },
        eventId,
      );
    }
    assert.equal((await pipeline.workflowIds(`${sandbox.key}-`)).length, 30, 'one workflow per event');
    await pipeline.deleteSandbox(sandbox.name);
  });

  it('returns what a deleted sandbox left in its topic to the baseline, then deletes the topic', async () => {
    const sandbox = { name: `gone-${id}`, key: `kgone${id}` };
    await pipeline.registerSandbox(sandbox.name, sandbox.key, ['ingress']);
    const fork = await pipeline.startIngress(sandbox.name);
    const processed = await pipeline.publish({
      routingKey: sandbox.key,
      count: 3,
      idPrefix: `${sandbox.key}a`,
    });
    for (const [eventId, outcome] of await pipeline.awaitOutcomes(processed.events.map((e) => e.id))) {
      assert.equal(outcome.ingestedBy, sandbox.name, eventId);
    }
    // The fork goes away first (Signadot deletes its pods); events keep arriving for its key.
    await pipeline.stopService(fork);
    const leftBehind = await pipeline.publish({
      routingKey: sandbox.key,
      count: 4,
      idPrefix: `${sandbox.key}b`,
    });
    await pipeline.awaitMetric(
      baselineIngress,
      { name: 'sandbox_routing_ingress_events_total', labels: 'action="forwarded"', atLeast: 7 },
      { description: 'the baseline to forward the 4 events to the sandbox topic', timeoutMs: 30_000 },
    );

    const refused = await pipeline.teardownIngress(sandbox.name);
    assert.equal(refused.code, 3, `refused while the sandbox exists: ${refused.stderr}`);
    assert.match(refused.stderr, /still has routing rules/);

    await pipeline.deleteSandbox(sandbox.name);
    const dryRun = await pipeline.teardownIngress(sandbox.name, '--dry-run');
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.equal(JSON.parse(dryRun.stdout).leftover, 4);

    const teardown = await pipeline.teardownIngress(sandbox.name);
    assert.equal(teardown.code, 0, teardown.stderr);
    const report = JSON.parse(teardown.stdout);
    assert.equal(report.moved, 4);
    assert.equal(report.topicDeleted, true);
    assert.equal(report.groupDeleted, true);
    assert.equal(await pipeline.topicExists(pipeline.sandboxTopic(sandbox.name)), false);

    for (const [eventId, outcome] of await pipeline.awaitOutcomes(leftBehind.events.map((e) => e.id))) {
      assert.deepEqual(
        { status: outcome.status, ingestedBy: outcome.ingestedBy },
        { status: 'COMPLETED', ingestedBy: 'baseline' },
        eventId,
      );
    }
    assert.equal((await pipeline.workflowIds(`${sandbox.key}`)).length, 7, 'one workflow per event');

    // Nothing left: a second run finds no topic and succeeds.
    const again = await pipeline.teardownIngress(sandbox.name);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).topicExisted, false);
  });
});
