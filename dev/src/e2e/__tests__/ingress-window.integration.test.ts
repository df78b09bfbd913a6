import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { workflowIdOfEvent } from '@sandbox-routing/sample';
import { pollUntil, stackEnv } from '@sandbox-routing/testkit';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Pipeline } from '../../pipeline/pipeline';
import { killService, type ServiceProcess } from '../../pipeline/service-process';
import { STACK_DIR } from '../../stack/paths';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);
const EVENTS = 300;

/**
 * The ingress with many starts in flight per partition, killed (SIGKILL) in the middle of its backlog
 * and started again: every event gets its workflow, none gets a second one, and the offsets the group
 * had committed when it died never passed an event whose workflow did not exist yet. No worker runs:
 * this is about starts.
 */
describe('ingress: many starts in flight, a crash mid-batch', () => {
  let pipeline: Pipeline;
  let events: { id: string; partition: number; offset: string }[];
  const env = { INGRESS_MAX_IN_FLIGHT: '32', LOG_LEVEL: 'warn' };

  before(async () => {
    pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-window-${id}`), env);
    events = (await pipeline.publish({ idPrefix: `win-${id}`, count: EVENTS })).events;
    assert.equal(events.length, EVENTS);
  });

  after(async () => {
    await pipeline?.stop();
  });

  async function exists(eventId: string): Promise<boolean> {
    try {
      await pipeline.temporal().workflow.getHandle(workflowIdOfEvent(eventId)).describe();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  it('loses nothing, starts nothing twice, and never commits past an event not yet started', async () => {
    const first: ServiceProcess = await pipeline.startIngress('', env);
    // Kill it once a good part of the backlog is done and plenty is in flight.
    await pipeline.awaitMetric(
      first,
      { name: 'sandbox_routing_ingress_events_total', labels: 'action="started"', atLeast: 100 },
      { description: 'the ingress to start 100 workflows', timeoutMs: 120_000, intervalMs: 20 },
    );
    await killService(first);
    pipeline.services.splice(pipeline.services.indexOf(first), 1);

    const committed = await pipeline.committedOffsets();
    const behindCommit = events.filter((e) => Number(e.offset) < (committed[e.partition] ?? -1));
    assert.ok(behindCommit.length > 0, `something was committed: ${JSON.stringify(committed)}`);
    assert.ok(behindCommit.length < EVENTS, 'killed mid-backlog');
    const missing = [];
    for (const event of behindCommit) if (!(await exists(event.id))) missing.push(event);
    assert.deepEqual(missing, [], 'every event below a committed offset has its workflow');

    const second = await pipeline.startIngress('', env);
    await pollUntil(
      async () => {
        const now = await pipeline.committedOffsets();
        return events.every((e) => Number(e.offset) < (now[e.partition] ?? -1));
      },
      { description: 'the restarted ingress to commit every event', timeoutMs: 180_000, intervalMs: 250 },
    );
    const lost = [];
    for (const event of events) if (!(await exists(event.id))) lost.push(event.id);
    assert.deepEqual(lost, [], 'nothing lost');
    // One workflow per event, each with one run: a second start of an id is refused by Temporal, and
    // the restarted ingress counts what it found started as duplicates.
    const ids = await pollUntil(
      async () => {
        const listed = await pipeline.workflowIds(`win-${id}-`);
        return listed.length >= EVENTS ? listed : undefined;
      },
      { description: 'visibility to list every workflow', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.equal(new Set(ids).size, EVENTS);
    assert.equal(ids.length, EVENTS, 'no event has two workflows');
    const started = await pipeline.metric(second, 'sandbox_routing_ingress_events_total', 'action="started"');
    const duplicates = await pipeline.metric(
      second,
      'sandbox_routing_ingress_events_total',
      'action="duplicate"',
    );
    assert.ok(started + duplicates >= EVENTS - behindCommit.length, 'the rest was handled after the restart');
  });
});
