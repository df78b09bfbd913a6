/*
 * Temporal header names and the routing decision header. Safe inside the workflow sandbox: it imports
 * only @temporalio/common and pure code.
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';

/**
 * Marks work whose queue a routing component already chose: the value is that task queue (a JSON
 * string payload). A workflow started with it skips the first-task check; an activity compares it with
 * the queue of the worker that picked it up.
 */
export const ROUTING_DECISION_HEADER = 'sd-routed';

/** Name of the local activity the workflow interceptor calls to learn the owner's queue of a key. */
export const RESOLVE_QUEUE_ACTIVITY = '__sandboxRoutingResolveQueue';

/** What the route-check local activity answers. */
export interface ResolvedQueue {
  /** The task queue of the instance that owns the key. */
  ownerQueue: string;
  /** `baseline` or the sandbox name (`ownerLabel`), for logs and workflow results. */
  owner: string;
  /**
   * Whether `ownerQueue` is the queue of the run that asked (the worker compares, so a replay on
   * another queue, e.g. a replay test, decides the same). Absent in answers recorded before it existed.
   */
  ownedHere?: boolean;
  /**
   * Record `SignadotRoutingKey` / `SignadotSandbox` on the workflow (the worker's setting; part of the
   * recorded answer so replays do the same). Absent in answers recorded before it existed.
   */
  recordSearchAttributes?: boolean;
  /**
   * Answers about another queue than the run's own (an activity, child or continue-as-new aimed
   * there): true when no workload of the application declares it as a shared queue, so the call goes
   * where the workflow wrote it, undecided. Absent in answers about the run's own queue.
   */
  unrouted?: boolean;
}

const MAX_QUEUE_NAME = 1000;

/** The decided task queue carried by `headers`, if any and well-formed. */
export function readRoutingDecision(
  headers: Readonly<Record<string, Payload>> | undefined,
): string | undefined {
  const payload = headers?.[ROUTING_DECISION_HEADER];
  if (!payload?.data || payload.data.length > MAX_QUEUE_NAME + 2) return undefined;
  try {
    const value: unknown = defaultPayloadConverter.fromPayload(payload);
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A copy of `headers` with the decided task queue set. */
export function withRoutingDecision(
  headers: Readonly<Record<string, Payload>>,
  taskQueue: string,
): Record<string, Payload> {
  return { ...headers, [ROUTING_DECISION_HEADER]: defaultPayloadConverter.toPayload(taskQueue) };
}
