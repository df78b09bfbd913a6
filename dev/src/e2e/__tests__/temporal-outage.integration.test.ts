import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pollUntil, stackEnv } from '@sandbox-routing/testkit';
import { Pipeline } from '../../pipeline/pipeline';
import { STACK_DIR } from '../../stack/paths';
import { stopService, up } from '../../stack/stack';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);

/** The group's committed offset per partition (-1: nothing committed). */
async function committedOffsets(pipeline: Pipeline): Promise<Record<number, number>> {
  const admin = pipeline.kafka().admin();
  await admin.connect();
  try {
    const [topic] = await admin.fetchOffsets({ groupId: pipeline.consumerGroup, topics: [pipeline.topic] });
    return Object.fromEntries((topic?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

describe('Temporal outage mid-stream', () => {
  let pipeline: Pipeline;

  before(async () => {
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-outage-${id}`), {
      LOG_LEVEL: 'info',
    });
    await pipeline.startWorker();
    await pipeline.startIngress();
  });

  after(async () => {
    await up(); // whatever happened, leave the stack whole for the next test file
    await pipeline?.stop();
  });

  it('commits nothing while Temporal is down and loses nothing after it returns', async () => {
    const before = await pipeline.publish({ count: 3, idPrefix: `pre-${id}` });
    for (const e of before.events) assert.equal((await pipeline.outcome(e.id)).status, 'COMPLETED');
    const ingress = pipeline.services.find((s) => s.name === 'ingress-baseline');
    assert.ok(ingress);
    // Wait until the commits of the processed events landed: next offset = last processed + 1.
    const expected: Record<number, number> = {};
    for (const e of before.events)
      expected[e.partition] = Math.max(expected[e.partition] ?? 0, Number(e.offset) + 1);
    const offsets = await pollUntil(
      async () => {
        const now = await committedOffsets(pipeline);
        return Object.entries(expected).every(([p, o]) => now[Number(p)] === o) ? now : undefined;
      },
      { description: 'the processed events to be committed', timeoutMs: 20_000 },
    );

    await stopService('temporal');
    const during = await pipeline.publish({ count: 6, idPrefix: `down-${id}` });
    await pollUntil(async () => (await fetch(`${ingress.httpUrl}/readyz`)).status === 503, {
      description: 'the ingress to report it is backing off',
      timeoutMs: 30_000,
    });
    const metrics = await (await fetch(`${ingress.httpUrl}/metrics`)).text();
    assert.match(metrics, /ingress_backing_off\{operation="workflow start"[^}]*\} 1/);
    assert.deepEqual(await committedOffsets(pipeline), offsets, 'nothing committed while Temporal is down');

    await up();
    for (const e of during.events) {
      assert.equal((await pipeline.outcome(e.id, 120_000)).status, 'COMPLETED', e.id);
    }
    await pollUntil(async () => (await fetch(`${ingress.httpUrl}/readyz`)).ok, {
      description: 'the ingress to be ready again',
      timeoutMs: 30_000,
    });
  });
});
