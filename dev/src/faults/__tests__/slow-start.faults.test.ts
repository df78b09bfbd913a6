import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FaultProxy, pollUntil, stackEnv } from '@sandbox-routing/testkit';
import { type IngressDecidedRecord, parseTrailRecord } from '@sandbox-routing/trail';
import { Pipeline } from '../../pipeline/pipeline';
import type { ServiceProcess } from '../../pipeline/service-process';
import { STACK_DIR } from '../../stack/paths';

/**
 * A Temporal call slower than the start deadline (issue 18): the ingress reaches Temporal through a
 * TCP fault proxy that first stops forwarding for longer than the ingress's call deadline, then
 * forwards every byte late (the server starts the workflow, the ingress hears of it after its
 * deadline). Nothing may be dead-lettered, every event's workflow runs exactly once, and the ingress
 * calls each event `started` (its own start found on the retry), never a duplicate.
 *
 * Bounded: 2 × 8 events, a 2 s call deadline, each fault held until the ingress has backed off.
 */
const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const CALL_TIMEOUT_MS = 2000;
const EVENTS_PER_FAULT = 8;

/** Every `ingress.decided` record of the results topic whose event id starts with `prefix`. */
async function decisions(pipeline: Pipeline, prefix: string, count: number): Promise<IngressDecidedRecord[]> {
  const consumer = pipeline
    .kafka()
    .consumer({ groupId: `slow-start-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const found = new Map<string, IngressDecidedRecord>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: pipeline.resultsTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const parsed = parseTrailRecord(message.value?.toString('utf8') ?? '');
        if (!parsed.ok || parsed.record.kind !== 'ingress.decided') return;
        const record = parsed.record;
        if (record.eventId?.startsWith(prefix)) found.set(`${record.eventId}@${record.offset}`, record);
      },
    });
    await pollUntil(() => found.size >= count, {
      description: `${count} ingress.decided records of ${prefix}*`,
      timeoutMs: 30_000,
    });
  } finally {
    await consumer.disconnect();
  }
  return [...found.values()];
}

async function deadLettered(pipeline: Pipeline): Promise<number> {
  const admin = pipeline.kafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(pipeline.deadLetterTopic);
    return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('a Temporal call slower than the start deadline', () => {
  let pipeline: Pipeline;
  let proxy: FaultProxy;
  let ingress: ServiceProcess;

  before(async () => {
    proxy = await FaultProxy.start(stack.TEMPORAL_ADDRESS);
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `faults-slow-start-${id}`), {
      LOG_LEVEL: 'info',
    });
    await pipeline.startWorker(); // straight to Temporal: only the ingress's calls are slow
    ingress = await pipeline.startIngress('', {
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
    });
  });

  after(async () => {
    await pipeline?.stop();
    await proxy?.close();
  });

  /** Events the ingress has decided so far (every action). */
  let decided = 0;

  /**
   * Publishes while the fault holds, waits until the ingress backs off their starts (past the call
   * deadline), heals the fault, and waits until each event's workflow completed.
   */
  async function throughFault(
    prefix: string,
    options: { heal: () => void; healOnceStarted: boolean },
  ): Promise<string[]> {
    const faultStarted = Date.now();
    const published = await pipeline.publish({ count: EVENTS_PER_FAULT, idPrefix: prefix });
    await pipeline.awaitMetric(
      ingress,
      {
        name: 'sandbox_routing_ingress_backing_off_partitions',
        labels: 'operation="workflow start"',
        atLeast: 1,
      },
      { description: 'the ingress to back off its workflow starts', timeoutMs: 30_000 },
    );
    assert.ok(Date.now() - faultStarted > CALL_TIMEOUT_MS, 'the fault outlasted the call deadline');
    if (options.healOnceStarted) {
      // Temporal (asked directly) has started every workflow, while the ingress has not heard of it.
      await pollUntil(async () => (await pipeline.workflowIds(prefix)).length === EVENTS_PER_FAULT, {
        description: `Temporal to have started the workflows of ${prefix}* the ingress timed out on`,
        timeoutMs: 30_000,
      });
    }
    options.heal();
    const ids = published.events.map((e) => e.id);
    const outcomes = await pipeline.awaitOutcomes(ids, 60_000);
    for (const [eventId, outcome] of outcomes) assert.equal(outcome.status, 'COMPLETED', eventId);
    const runs = await pipeline.workflowIds(prefix);
    assert.equal(runs.length, EVENTS_PER_FAULT, `one run per event of ${prefix}*: ${runs.join(', ')}`);
    // Nothing of this fault still waits when the next one begins.
    await pipeline.awaitMetric(
      ingress,
      { name: 'sandbox_routing_ingress_events_total', atLeast: decided + published.sent },
      { description: 'the ingress to have decided every event', timeoutMs: 30_000 },
    );
    decided += published.sent;
    return ids;
  }

  it('dead-letters nothing and runs every workflow exactly once, calling each event started', async () => {
    // 1. Temporal stops answering: the calls run into their deadline, the server never sees them.
    proxy.pause();
    const paused = await throughFault(`paused-${id}-`, {
      heal: () => proxy.resume(),
      healOnceStarted: false,
    });
    // 2. Every byte arrives late: the server starts the workflows, the ingress hears of it too late,
    //    and its retries find them started.
    proxy.delay(CALL_TIMEOUT_MS + 1500);
    const late = await throughFault(`late-${id}-`, { heal: () => proxy.delay(0), healOnceStarted: true });
    const all = [...paused, ...late];

    assert.equal(await deadLettered(pipeline), 0, 'nothing dead-lettered');
    const trail = await decisions(pipeline, `paused-${id}-`, EVENTS_PER_FAULT);
    trail.push(...(await decisions(pipeline, `late-${id}-`, EVENTS_PER_FAULT)));
    assert.deepEqual(
      trail.filter((r) => r.action !== 'started').map((r) => `${r.eventId}: ${r.action}`),
      [],
      'every event decided once, as started',
    );
    assert.equal(trail.length, all.length);
    const metric = (action: string) =>
      pipeline.metric(ingress, 'sandbox_routing_ingress_events_total', `action="${action}"`);
    assert.equal(await metric('started'), all.length);
    assert.equal(await metric('duplicate'), 0);
    assert.equal(await metric('dead-lettered'), 0);
  });
});
