import { setTimeout as sleep } from 'node:timers/promises';
import { createEvent, type PipelineEvent, workflowIdOfEvent } from '@sandbox-routing/shared';
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
}

export interface DriveResult {
  timings: EventTiming[];
  workflowIds: string[];
  /** Workflows still open at the end (terminated by {@link terminateOpen}). */
  open: string[];
  maxInFlight: number;
}

/**
 * Starts workflows open-loop at `rate` per second (even events for the baseline, odd for the sandbox,
 * on a fixed schedule whatever the server's speed), and times each from its start call to its result.
 */
export async function driveTemporal(options: DriveOptions): Promise<DriveResult> {
  const count = Math.max(1, Math.round((options.rate * options.durationMs) / 1000));
  const timings: EventTiming[] = [];
  const workflowIds: string[] = [];
  const pending = new Map<string, Promise<void>>();
  let inFlight = 0;
  let maxInFlight = 0;
  const begin = performance.now();
  for (let i = 0; i < count; i++) {
    const due = (i * 1000) / options.rate;
    const wait = due - (performance.now() - begin);
    if (wait > 0) await sleep(wait);
    const owner: EventTiming['owner'] = i % 2 === 0 ? 'baseline' : 'sandbox';
    const event = createEvent('order.created', {}, `${options.idPrefix}-${i}`);
    const workflowId = workflowIdOfEvent(event.id);
    const timing: EventTiming = { owner, sentAtMs: performance.now() - begin, latencyMs: null };
    timings.push(timing);
    workflowIds.push(workflowId);
    const startedAt = performance.now();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    pending.set(
      workflowId,
      options
        .start(event, workflowId, owner)
        .then((handle) => handle.result())
        .then(
          () => {
            timing.latencyMs = performance.now() - startedAt;
          },
          () => undefined, // a failed start or workflow counts as not completed
        )
        .finally(() => {
          inFlight--;
          pending.delete(workflowId);
        }),
    );
  }
  await Promise.race([Promise.allSettled([...pending.values()]), sleep(options.drainMs)]);
  return { timings, workflowIds, open: [...pending.keys()], maxInFlight };
}

/** Terminates what a step left running, so that it does not load the next one. */
export async function terminateOpen(client: Client, workflowIds: readonly string[]): Promise<void> {
  await Promise.allSettled(
    workflowIds.map((id) => client.workflow.getHandle(id).terminate('benchmark step over')),
  );
}
