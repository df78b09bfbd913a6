import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Kafka, Message, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { KafkaRecord } from '../records';
import type { MessageSink } from '../seam';
import { toBrokerError } from './errors';
import { toKafkajsHeaders } from './headers';

/**
 * A kafkajs producer that writes records exactly as given.
 *
 * The OpenTelemetry kafkajs instrumentation, when loaded, patches `send` to start a span and
 * `propagation.inject` `traceparent` and `baggage` into each message's headers object, overwriting
 * what is there (two baggage headers become one, values get re-encoded, a new span id appears).
 * Sends run in a context with tracing suppressed (`suppressTracing` from `@opentelemetry/core`, on
 * the root context): the SDK's tracer then makes no span, and the W3C trace-context and baggage
 * propagators inject nothing when tracing is suppressed, so the copy keeps the original's headers.
 */
export class KafkajsSink implements MessageSink {
  private connecting: Promise<void> | undefined;

  constructor(private readonly producer: Producer) {}

  static create(kafka: Kafka): KafkajsSink {
    return new KafkajsSink(
      kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        // kafkajs's idempotent producer is experimental; duplicates are absorbed downstream by event id.
        idempotent: false,
        allowAutoTopicCreation: false,
        // Few retries inside kafkajs: the ingress backs off itself, pausing the partition meanwhile.
        retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
      }),
    );
  }

  async produce(topic: string, records: readonly (KafkaRecord & { partition?: number })[]): Promise<void> {
    const messages: Message[] = records.map((record) => ({
      key: record.key,
      value: record.value,
      headers: toKafkajsHeaders(record.headers),
      timestamp: record.timestamp,
      ...(record.partition === undefined ? {} : { partition: record.partition }),
    }));
    try {
      await this.connect();
      await context.with(suppressTracing(ROOT_CONTEXT), () =>
        this.producer.send({ topic, acks: -1, messages }),
      );
    } catch (error) {
      throw toBrokerError(error, `writing to ${topic}`);
    }
  }

  /** Connects once; a failed attempt is forgotten, so the next call tries again. */
  private connect(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    if (this.connecting) await this.producer.disconnect();
  }
}
