import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pollUntil, stackEnv } from '@sandbox-routing/testkit';
import type { Client } from '@temporalio/client';
import { type EventOutcome, Pipeline } from '../../pipeline/pipeline';
import { REPO_ROOT, STACK_DIR } from '../../stack/paths';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const A = { name: `sa-${id}`, key: `ka${id}routing` };
const B = { name: `sb-${id}`, key: `kb${id}routing` };
const GROUP = { name: `rg-${id}`, key: `kg${id}routing` };
/** Fast refresh, so "within the refresh interval" is quick to observe. */
const env = { ROUTESERVER_REFRESH_INTERVAL_MS: '500', LOG_LEVEL: 'info' };

function event(outcome: EventOutcome) {
  return {
    ingestedBy: outcome.ingestedBy,
    ranOn: outcome.ranOn,
    activities: [...new Set(outcome.activitiesOn)],
  };
}

/** Sends one event with raw headers through a foreign producer; returns its id. */
function sendWith(tool: 'kcat' | 'console', pipeline: Pipeline, baggage: string): string {
  const eventId = `${tool}-${randomUUID()}`;
  const value = JSON.stringify({
    id: eventId,
    type: 'order.created',
    time: new Date().toISOString(),
    payload: { orderId: eventId },
  });
  const broker = stack.KAFKA_BROKERS.split(',')[0] as string;
  const result =
    tool === 'kcat'
      ? spawnSync('kcat', ['-P', '-b', broker, '-t', pipeline.topic, '-H', `baggage=${baggage}`], {
          input: `${value}\n`,
          encoding: 'utf8',
        })
      : spawnSync(
          'bash',
          [
            path.join(REPO_ROOT, 'dev/bin/kafka-cli.sh'),
            'console-producer',
            '--bootstrap-server',
            broker,
            '--topic',
            pipeline.topic,
            '--property',
            'parse.headers=true',
            '--property',
            'headers.separator=~',
          ],
          {
            input: `baggage:${baggage}~traceparent:00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\t${value}\n`,
            encoding: 'utf8',
          },
        );
  assert.equal(result.status, 0, result.stderr);
  return eventId;
}

describe('pipeline routing end to end', () => {
  let pipeline: Pipeline;

  before(async () => {
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-routing-${id}`), env);
    // A forks ingress and worker; B forks only the worker and is also reached through a RouteGroup.
    await pipeline.registerSandbox(A.name, A.key, ['ingress', 'worker']);
    await pipeline.registerSandbox(B.name, B.key, ['worker']);
    await pipeline.registerRouteGroup(GROUP.name, GROUP.key, [B.name]);
    await pipeline.startServices([
      { name: A.name, forks: ['ingress', 'worker'] },
      { name: B.name, forks: ['worker'] },
    ]);
  });

  after(async () => {
    await pipeline?.stop();
    await Promise.all([
      pipeline?.deleteSandbox(A.name),
      pipeline?.deleteSandbox(B.name),
      pipeline?.deleteRouteGroup(GROUP.name),
    ]);
  });

  it('runs each key kind on its owner, everywhere, and loses nothing', async () => {
    const cases = [
      { key: '', ingress: 'baseline', worker: 'baseline' },
      { key: A.key, ingress: A.name, worker: A.name },
      { key: B.key, ingress: 'baseline', worker: B.name }, // B does not fork the ingress
      { key: GROUP.key, ingress: 'baseline', worker: B.name },
      { key: `unknown${id}`, ingress: 'baseline', worker: 'baseline' },
    ];
    const published = await Promise.all(
      cases.map(async (c, i) => ({
        ...c,
        summary: await pipeline.publish({ routingKey: c.key, count: 3, idPrefix: `r${id}-${i}` }),
      })),
    );
    for (const c of published) {
      assert.equal(c.summary.sent, 3);
      for (const { id: eventId } of c.summary.events) {
        const outcome = await pipeline.outcome(eventId);
        assert.equal(outcome.status, 'COMPLETED');
        assert.deepEqual(
          event(outcome),
          { ingestedBy: c.ingress, ranOn: c.worker, activities: [c.worker] },
          `key "${c.key}"`,
        );
        assert.equal(outcome.pricing, c.worker === 'baseline' ? 'standard' : 'v2-discount');
      }
    }
    // Zero anywhere else: exactly one workflow per event across all queues of this pipeline.
    const client = pipeline.temporal();
    const ids = published.flatMap((c) => c.summary.events.map((e) => `evt-${e.id}`));
    let count = 0;
    for await (const workflow of client.workflow.list({ query: `WorkflowId STARTS_WITH "evt-r${id}-"` })) {
      assert.ok(ids.includes(workflow.workflowId), workflow.workflowId);
      count++;
    }
    assert.equal(count, ids.length, 'one workflow per event, no more');
  });

  it('routes events sent with kcat -H and the console producer exactly like the producer CLI', async () => {
    const multiMember = `user=alice;role=qa,sd-routing-key=${A.key};origin=browser,sd-sandbox=${A.key}`;
    const viaKcat = sendWith('kcat', pipeline, multiMember);
    const viaConsole = sendWith('console', pipeline, multiMember);
    const viaGroupKcat = sendWith('kcat', pipeline, `sd-routing-key=${GROUP.key};ttl=1`);
    for (const eventId of [viaKcat, viaConsole]) {
      assert.deepEqual(
        event(await pipeline.outcome(eventId)),
        { ingestedBy: A.name, ranOn: A.name, activities: [A.name] },
        eventId,
      );
    }
    assert.deepEqual(event(await pipeline.outcome(viaGroupKcat)), {
      ingestedBy: 'baseline',
      ranOn: B.name,
      activities: [B.name],
    });
  });

  it('routes to a sandbox created while running, and back to the baseline after its deletion', async () => {
    const C = { name: `sc-${id}`, key: `kc${id}routing` };
    await pipeline.startWorker(C.name);
    await pipeline.registerSandbox(C.name, C.key, ['worker']);
    // Within the refresh interval (plus the on-demand fetch for unknown keys), new events follow the rule.
    const first = await pipeline.publish({ routingKey: C.key, count: 2, idPrefix: `c${id}-new` });
    for (const e of first.events) assert.equal((await pipeline.outcome(e.id)).ranOn, C.name);

    // A long-running workflow pinned to C before it goes away.
    const client: Client = pipeline.temporal();
    const pinnedId = `pinned-${id}`;
    await client.workflow.start('awaitApproval', {
      taskQueue: `${pipeline.taskQueue}@${C.name}`,
      workflowId: pinnedId,
      args: [{ id: pinnedId, type: 'order.created', time: new Date().toISOString(), payload: {} }],
    });
    await pollUntil(async () => (await client.workflow.getHandle(pinnedId).describe()).historyLength >= 3, {
      description: 'the pinned workflow to run on the sandbox',
      timeoutMs: 20_000,
    });

    await pipeline.deleteSandbox(C.name);
    await pollUntil(
      async () => {
        const probe = await pipeline.publish({
          routingKey: C.key,
          count: 1,
          idPrefix: `c${id}-after-${randomUUID().slice(0, 4)}`,
        });
        return (await pipeline.outcome(probe.events[0]?.id as string)).ranOn === 'baseline';
      },
      { description: 'events for the deleted sandbox to run on the baseline', timeoutMs: 20_000 },
    );

    // The teardown command finds the pinned workflow and restarts it on the baseline.
    const teardown = spawnSync(
      process.execPath,
      [
        path.join(REPO_ROOT, 'worker/dist/teardown.js'),
        '--sandbox',
        C.name,
        '--action',
        'restart-on-baseline',
        '--json',
      ],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
          TEMPORAL_TASK_QUEUE: pipeline.taskQueue,
        },
        encoding: 'utf8',
      },
    );
    assert.equal(teardown.status, 0, teardown.stderr);
    assert.match(teardown.stdout, new RegExp(pinnedId));
    const restarted = await client.workflow.getHandle(pinnedId).describe();
    assert.equal(restarted.taskQueue, pipeline.taskQueue, 'restarted on the shared (baseline) queue');
  });
});
