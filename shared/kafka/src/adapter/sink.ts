import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Kafka, Message, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { KafkaRecord } from '../records';
import type { MessageSink } from '../seam';
import { ConnectOnce } from './connect-once';
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
  private readonly connection: ConnectOnce;

  constructor(private readonly producer: Producer) {
    this.connection = new ConnectOnce(producer);
  }

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
      await this.connection.connect();
      await context.with(suppressTracing(ROOT_CONTEXT), () =>
        this.producer.send({ topic, acks: -1, messages }),
      );
    } catch (error) {
      throw toBrokerError(error, `writing to ${topic}`);
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
