import { setTimeout as sleep } from 'node:timers/promises';
import { createEvent, type PipelineEvent, workflowIdOfEvent } from '@sandbox-routing/sample';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { EventTiming } from './steps';

/** Starts one event's workflow as a row does (its client, queue and routing key). */
export type StartWorkflow = (
  event: PipelineEvent,
  workflowId: string,
  owner: EventTiming['owner'],
) => Promise<WorkflowHandle>;

export interface DriveOptions {
  rate: number;
  durationMs: number;
  /** After the last start, how long to wait for completions; the rest count as not completed. */
  drainMs: number;
  idPrefix: string;
  start: StartWorkflow;
  /** Reads the workflows' close times. */
  client: Client;
}

export interface DriveResult {
  timings: EventTiming[];
  workflowIds: string[];
  /** Workflows still open at the end (terminated by {@link terminateOpen}). */
  open: string[];
  /** Most workflows started and not closed at one moment. */
  maxInFlight: number;
}

/** How many `describe` calls run at once while waiting for completions. */
const DESCRIBE_CONCURRENCY = 16;

/** Runs `task` over `items`, at most `concurrency` at a time. */
async function forEachBounded<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

/** The most intervals [start, end) open at once. */
function maxOverlap(intervals: readonly (readonly [number, number])[]): number {
  const edges = intervals.flatMap(([from, to]) => [
    [from, 1],
    [to, -1],
  ]);
  edges.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
  let open = 0;
  let most = 0;
  for (const [, delta] of edges) {
    open += delta as number;
    most = Math.max(most, open);
  }
  return most;
}

/**
 * Starts workflows open-loop at `rate` per second (even events for the baseline, odd for the sandbox,
 * on a fixed schedule whatever the server's speed), then waits for them to close. Each is timed from
 * its start call to the close time Temporal recorded (same machine, same clock), read with `describe`
 * at a bounded concurrency: awaiting every result would hold one long poll per open workflow, and the
 * client's connection queues those beyond its stream limit, which would add its own delay.
 */
export async function driveTemporal(options: DriveOptions): Promise<DriveResult> {
  const count = Math.max(1, Math.round((options.rate * options.durationMs) / 1000));
  const begin = Date.now();
  const events = Array.from({ length: count }, (_, i) => {
    const event = createEvent('order.created', {}, `${options.idPrefix}-${i}`);
    return {
      event,
      workflowId: workflowIdOfEvent(event.id),
      owner: (i % 2 === 0 ? 'baseline' : 'sandbox') as EventTiming['owner'],
      startedAt: 0,
      started: false,
      closedAt: null as number | null,
      completed: false,
    };
  });
  const starts: Promise<void>[] = [];
  for (const [i, item] of events.entries()) {
    const wait = begin + (i * 1000) / options.rate - Date.now();
    if (wait > 0) await sleep(wait);
    item.startedAt = Date.now();
    starts.push(
      options.start(item.event, item.workflowId, item.owner).then(
        () => {
          item.started = true;
        },
        () => undefined, // a failed start counts as not completed
      ),
    );
  }
  await Promise.all(starts);
  const deadline = Date.now() + options.drainMs;
  let pending = events.filter((item) => item.started);
  const { client } = options;
  while (pending.length > 0 && Date.now() < deadline) {
    await forEachBounded(pending, DESCRIBE_CONCURRENCY, async (item) => {
      try {
        const description = await client.workflow.getHandle(item.workflowId).describe();
        if (description.closeTime) {
          item.closedAt = description.closeTime.getTime();
          item.completed = description.status.name === 'COMPLETED';
        }
      } catch {
        // try again next round
      }
    });
    pending = pending.filter((item) => item.closedAt === null);
    if (pending.length > 0) await sleep(250);
  }
  const end = Date.now();
  return {
    timings: events.map((item) => ({
      owner: item.owner,
      sentAtMs: item.startedAt - begin,
      latencyMs:
        item.completed && item.closedAt !== null ? Math.max(0, item.closedAt - item.startedAt) : null,
    })),
    workflowIds: events.map((item) => item.workflowId),
    open: pending.map((item) => item.workflowId),
    maxInFlight: maxOverlap(
      events.filter((item) => item.started).map((item) => [item.startedAt, item.closedAt ?? end] as const),
    ),
  };
}

/** Terminates what a step left running, so that it does not load the next one. */
export async function terminateOpen(client: Client, workflowIds: readonly string[]): Promise<void> {
  await forEachBounded(workflowIds, DESCRIBE_CONCURRENCY, async (id) => {
    await client.workflow
      .getHandle(id)
      .terminate('benchmark step over')
      .catch(() => undefined);
  });
}
