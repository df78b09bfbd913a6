import { runWithRoutingKey } from '@sandbox-routing/core';
import { type PipelineEvent, workflowIdOfEvent } from '@sandbox-routing/sample';
import type { Client } from '@temporalio/client';
import { type EventSender, type MessagePlacement, publishEvents } from '../publish';

/** How the console sends: through Kafka (the normal path) or straight to Temporal (the tutorial's). */
export type SendPath = 'kafka' | 'temporal';

/** Where one event went when it was sent. */
export interface Dispatched {
  eventId: string;
  workflowId: string;
  /** Kafka path: where the message landed. */
  placement: MessagePlacement | null;
}

/** Sends events for the console; the server takes a fake in its own tests. */
export interface ConsoleDispatcher {
  readonly topic: string;
  send(path: SendPath, events: readonly PipelineEvent[], routingKey: string | null): Promise<Dispatched[]>;
  close(): Promise<void>;
}

/** The real dispatcher: the producer's Kafka sender, and a Temporal client. */
export function createDispatcher(options: {
  sender: EventSender;
  topic: string;
  /** Its workflow interceptors must include `RoutingClientInterceptor` (it writes the key header). */
  temporal: Client;
  sharedQueue: string;
  workflowType: string;
}): ConsoleDispatcher {
  const viaKafka = async (events: readonly PipelineEvent[], routingKey: string | null) => {
    // The kafkajs instrumentation writes traceparent + baggage (sd-routing-key), as `producer publish` does.
    const result = await publishEvents(options.sender, events, {
      topic: options.topic,
      routingKey: routingKey ?? undefined,
    });
    return result.events.map((sent) => ({
      eventId: sent.id,
      workflowId: workflowIdOfEvent(sent.id),
      placement: { partition: sent.partition, offset: sent.offset },
    }));
  };
  const viaTemporal = (events: readonly PipelineEvent[], routingKey: string | null) =>
    Promise.all(
      events.map(async (event) => {
        const workflowId = workflowIdOfEvent(event.id);
        const start = () =>
          options.temporal.workflow.start(options.workflowType, {
            // The shared queue, as any client that does not route would: the baseline worker
            // redirects a sandbox's key on the first workflow task.
            taskQueue: options.sharedQueue,
            workflowId,
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            args: [event],
            memo: { startedBy: 'console', routingKey, eventTime: event.time },
          });
        await (routingKey ? runWithRoutingKey(routingKey, start) : start());
        return { eventId: event.id, workflowId, placement: null };
      }),
    );
  return {
    topic: options.topic,
    send: (path, events, routingKey) =>
      path === 'kafka' ? viaKafka(events, routingKey) : viaTemporal(events, routingKey),
    close: () => options.sender.disconnect(),
  };
}
