import { BASELINE_LABEL, sandboxTaskQueue } from '@sandbox-routing/core';
import {
  type KafkaConfig,
  kafkaSecurityOptions,
  lazyClientConnection,
  type TemporalConfig,
} from '@sandbox-routing/service-kit';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import type { LoadOwner } from './owners';

/**
 * What `load` asks Kafka and Temporal directly, besides reading the trail: how much work waits in the
 * pipeline before the run (so a backlog is not taken for slowness), and, after the drain, what
 * Temporal says of the events that were not seen to finish (so late is not called lost).
 */

/** What was waiting in the pipeline when the run began. */
export interface Backlog {
  /** Events on the events topic the ingress group had not read yet; null when not known (see `errors`). */
  ingress: { group: string; topic: string; waiting: number } | null;
  /** Open workflows on each owner's task queue; null when Temporal could not be asked. */
  queues: { owner: string; taskQueue: string; running: number }[] | null;
  /** What could not be checked, and why. */
  errors: string[];
}

/** Temporal's word on one workflow: the status of its latest run, or `not-found` when there is none. */
export type WorkflowState = 'running' | 'closed' | 'not-found';

export interface LoadInspector {
  backlog(owners: readonly LoadOwner[]): Promise<Backlog>;
  /** Temporal's state of each of these workflows. */
  workflowStates(workflowIds: readonly string[]): Promise<Map<string, WorkflowState>>;
  close(): Promise<void>;
}

/** Most workflows described after a drain; the report says when there were more. */
export const MAX_DESCRIBED = 2000;

/** Describes in flight at once: a few, so the check does not compete with the workers for Temporal. */
const DESCRIBE_CONCURRENCY = 8;

/** Deadline of each call to Kafka or Temporal made for these checks. */
const CALL_TIMEOUT_MS = 5000;

/** The warning to print before sending, when work is waiting; undefined when nothing is. */
export function backlogWarning(backlog: Backlog): string | undefined {
  const parts: string[] = [];
  if (backlog.ingress && backlog.ingress.waiting > 0) {
    const { waiting, group, topic } = backlog.ingress;
    parts.push(
      `${waiting} event${waiting === 1 ? '' : 's'} on ${topic} not read yet by the ingress (group ${group})`,
    );
  }
  for (const queue of backlog.queues ?? []) {
    if (queue.running === 0) continue;
    parts.push(
      `${queue.running} workflow${queue.running === 1 ? '' : 's'} open on ${queue.taskQueue} (${queue.owner})`,
    );
  }
  if (parts.length === 0) return undefined;
  return `work is waiting before this run: ${parts.join('; ')}. This run's events queue behind it: expect higher latencies, and events unfinished at the end of the drain`;
}

/** The task queue an owner's work runs on. */
export function ownerTaskQueue(sharedQueue: string, owner: LoadOwner): string {
  return owner.expected.worker === BASELINE_LABEL
    ? sharedQueue
    : sandboxTaskQueue(sharedQueue, owner.expected.worker);
}

function withTimeout<T>(what: string, call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer within ${CALL_TIMEOUT_MS} ms`)),
      CALL_TIMEOUT_MS,
    );
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Events on `topic` the consumer group has not read: per partition, its end less the group's committed
 * offset (the ingress reads from the beginning when its group has committed nothing yet).
 */
export async function consumerLag(
  admin: Pick<import('kafkajs').Admin, 'fetchTopicOffsets' | 'fetchOffsets'>,
  group: string,
  topic: string,
): Promise<number> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  let waiting = 0n;
  for (const end of ends) {
    const read = at.get(end.partition) ?? -1n;
    const from = read >= 0n ? read : BigInt(end.low);
    if (BigInt(end.high) > from) waiting += BigInt(end.high) - from;
  }
  return Number(waiting);
}

/** The inspector of a real pipeline: a Kafka admin client and a Temporal client, each connected on use. */
export function pipelineInspector(options: {
  kafka: KafkaConfig;
  topic: string;
  ingressGroup: string;
  temporal: TemporalConfig;
}): LoadInspector {
  // Loaded on use, after telemetry started (see connectSender).
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  const admin = new Kafka({
    clientId: options.kafka.clientId,
    brokers: options.kafka.brokers,
    ...kafkaSecurityOptions(options.kafka.security),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: CALL_TIMEOUT_MS,
    retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1000 },
  }).admin();
  let adminConnected: Promise<void> | undefined;
  const connection = lazyClientConnection(options.temporal);
  const client = new Client({ connection, namespace: options.temporal.namespace });

  const lag = async (): Promise<number> => {
    adminConnected ??= admin.connect();
    await adminConnected;
    return consumerLag(admin, options.ingressGroup, options.topic);
  };

  const running = async (taskQueue: string): Promise<number> => {
    const { count } = await client.workflow.count(
      `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`,
    );
    return count;
  };

  const state = async (workflowId: string): Promise<WorkflowState> => {
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      return description.status.name === 'RUNNING' ? 'running' : 'closed';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'not-found';
      throw error;
    }
  };

  return {
    async backlog(owners) {
      const errors: string[] = [];
      let ingress: Backlog['ingress'] = null;
      try {
        const waiting = await withTimeout('reading the ingress group offsets', lag());
        ingress = { group: options.ingressGroup, topic: options.topic, waiting };
      } catch (error) {
        errors.push(`the ingress group ${options.ingressGroup}'s lag on ${options.topic}: ${message(error)}`);
      }
      let queues: Backlog['queues'] = null;
      try {
        const seen = new Set<string>();
        queues = [];
        for (const owner of owners) {
          const taskQueue = ownerTaskQueue(options.temporal.taskQueue, owner);
          if (seen.has(taskQueue)) continue;
          seen.add(taskQueue);
          const count = await withTimeout(`counting open workflows on ${taskQueue}`, running(taskQueue));
          queues.push({ owner: owner.expected.worker, taskQueue, running: count });
        }
      } catch (error) {
        queues = null;
        errors.push(`open workflows at Temporal ${options.temporal.address}: ${message(error)}`);
      }
      return { ingress, queues, errors };
    },

    async workflowStates(workflowIds) {
      const states = new Map<string, WorkflowState>();
      const queue = [...workflowIds];
      let failed = false;
      const worker = async () => {
        for (let id = queue.shift(); id !== undefined && !failed; id = queue.shift()) {
          try {
            states.set(id, await withTimeout(`describing ${id}`, state(id)));
          } catch (error) {
            failed = true; // the other workers stop too: Temporal is not answering
            throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: DESCRIBE_CONCURRENCY }, worker));
      return states;
    },

    async close() {
      await Promise.allSettled([adminConnected ? admin.disconnect() : undefined, connection.close()]);
    },
  };
}
