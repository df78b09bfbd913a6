import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { BASELINE_LABEL } from '@sandbox-routing/core';
import { createEvent, workflowIdOfEvent } from '@sandbox-routing/sample';
import { pollUntil, type StackEnv } from '@sandbox-routing/testkit';
import type { Client } from '@temporalio/client';
import { Partitioners } from 'kafkajs';
import { Pipeline } from '../pipeline/pipeline';
import { STACK_DIR } from '../stack/paths';
import { terminateOpen } from './temporal-driver';

/** How fast workflows get started: by the ingress from a backlog in Kafka, and by a plain client. */
export interface StartRate {
  events: number;
  /** Starts per second, from the server's start times of the first and the last workflow (median of the rounds). */
  ingress: number;
  plainClient: number;
  /** Starts a plain client keeps in flight. */
  clientConcurrency: number;
  /** ingress / plain client: the median of the rounds' ratios. */
  ratio: number;
  /** Each round's rates, in the order they ran (ingress and client alternate which goes first). */
  rounds: { ingress: number; plainClient: number; ratio: number }[];
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/**
 * {@link measureStartRound} `rounds` times, alternating which side goes first, so that a busier moment
 * of a shared machine does not decide the comparison: the rates and the ratio are medians.
 */
export async function measureStartRate(
  stack: StackEnv,
  options: { events: number; clientConcurrency: number; rounds?: number; ingressEnv?: NodeJS.ProcessEnv },
): Promise<StartRate> {
  const rounds: StartRate['rounds'] = [];
  for (let round = 0; round < (options.rounds ?? 3); round++) {
    const { ingress, plainClient } = await measureStartRound(stack, {
      ...options,
      clientFirst: round % 2 === 1,
    });
    rounds.push({ ingress, plainClient, ratio: Math.round((ingress / plainClient) * 100) / 100 });
  }
  return {
    events: options.events,
    ingress: median(rounds.map((r) => r.ingress)),
    plainClient: median(rounds.map((r) => r.plainClient)),
    clientConcurrency: options.clientConcurrency,
    ratio: median(rounds.map((r) => r.ratio)),
    rounds,
  };
}

/** Starts per second between the first and the last start time Temporal recorded for `workflowIds`. */
async function serverStartRate(client: Client, workflowIds: readonly string[]): Promise<number> {
  const times: number[] = [];
  let next = 0;
  const reader = async () => {
    while (next < workflowIds.length) {
      const id = workflowIds[next++] as string;
      times.push((await client.workflow.getHandle(id).describe()).startTime.getTime());
    }
  };
  await Promise.all(Array.from({ length: 16 }, reader));
  times.sort((a, b) => a - b);
  const spanS = ((times.at(-1) as number) - (times[0] as number)) / 1000;
  return Math.round(((times.length - 1) / Math.max(spanS, 0.001)) * 10) / 10;
}

/**
 * The same workflows (processOrder, baseline events without a key, on a queue no worker polls) started
 * twice against the same server in one run: by the ingress, from `events` events already waiting in
 * its topic (3 partitions), and by a plain Temporal client with `clientConcurrency` starts in flight.
 * Each rate comes from the server's own start times. The workflows are terminated afterwards.
 */
async function measureStartRound(
  stack: StackEnv,
  options: {
    events: number;
    clientConcurrency: number;
    clientFirst: boolean;
    ingressEnv?: NodeJS.ProcessEnv;
  },
): Promise<{ ingress: number; plainClient: number }> {
  const pipeline = await Pipeline.isolated(
    stack,
    path.join(STACK_DIR, 'logs', `bench-starts-${randomUUID().slice(0, 6)}`),
    {
      LOG_LEVEL: 'warn',
      // The ingress's default, like the plain client's: no span exported (the trail stays on).
      OTEL_TRACES_EXPORTER: 'none',
      ...options.ingressEnv,
    },
  );
  const client = pipeline.temporal();
  const prefix = `starts-${randomUUID().slice(0, 6)}`;
  const ingressIds: string[] = [];
  const clientIds: string[] = [];
  try {
    const byIngress = async (): Promise<number> => {
      // The ingress: a backlog first, then the ingress starts and works through it.
      const producer = pipeline.kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      for (let sent = 0; sent < options.events; sent += 500) {
        const batch = Array.from({ length: Math.min(500, options.events - sent) }, (_, i) => {
          const event = createEvent('order.created', {}, `${prefix}-i-${sent + i}`);
          ingressIds.push(workflowIdOfEvent(event.id));
          return { key: event.id, value: JSON.stringify(event) };
        });
        await producer.send({ topic: pipeline.topic, messages: batch });
      }
      await producer.disconnect();
      await pipeline.startIngress();
      // Done when the group has committed every offset: each event started (or was a duplicate).
      const admin = pipeline.kafka().admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(pipeline.topic);
        await pollUntil(
          async () => {
            const [committed] = await admin.fetchOffsets({
              groupId: pipeline.consumerGroup,
              topics: [pipeline.topic],
            });
            return ends.every((end) => {
              const at = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
              return BigInt(at) >= BigInt(end.offset);
            });
          },
          { description: 'the ingress to work through its backlog', timeoutMs: 900_000, intervalMs: 250 },
        );
      } finally {
        await admin.disconnect();
      }
      return serverStartRate(client, ingressIds);
    };
    const byClient = async (): Promise<number> => {
      // The plain client: the same workflows, the same options the ingress gives them.
      let next = 0;
      const starter = async () => {
        while (next < options.events) {
          const event = createEvent('order.created', {}, `${prefix}-c-${next++}`);
          const workflowId = workflowIdOfEvent(event.id);
          clientIds.push(workflowId);
          await client.workflow.start('processOrder', {
            taskQueue: pipeline.taskQueue,
            workflowId,
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            args: [event],
            memo: { ingestedBy: BASELINE_LABEL, routingKey: null, eventTime: event.time },
          });
        }
      };
      await Promise.all(Array.from({ length: options.clientConcurrency }, starter));
      return serverStartRate(client, clientIds);
    };
    if (options.clientFirst) {
      const plainClient = await byClient();
      return { ingress: await byIngress(), plainClient };
    }
    const ingress = await byIngress();
    return { ingress, plainClient: await byClient() };
  } finally {
    await terminateOpen(client, [...ingressIds, ...clientIds]);
    await pipeline.stop();
  }
}
