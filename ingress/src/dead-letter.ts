import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';

/** Why an event was dead-lettered: an `EventRejection`, or a reason found by the ingress. */
export type DeadLetterReason =
  | 'oversized'
  | 'not-json'
  | 'schema'
  | 'bad-headers'
  | 'unknown-type'
  | 'start-rejected';

/** Where a dead-lettered event came from, so it can be found and replayed. */
export interface MessageOrigin {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Writes rejected events to the dead-letter topic: the original key, value and headers, plus
 * `dead-letter-reason`, `dead-letter-detail` and where the event came from. Nothing is lost: the
 * consumer commits the original only after this write succeeded.
 */
export class DeadLetterPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async publish(
    message: KafkaMessage,
    origin: MessageOrigin,
    reason: DeadLetterReason,
    detail: string,
  ): Promise<void> {
    const headers: IHeaders = {
      ...message.headers,
      'dead-letter-reason': reason,
      // Bounded: a detail that echoes hostile input must not blow up the header.
      'dead-letter-detail': detail.slice(0, 1000),
      'dead-letter-source': `${origin.topic}/${origin.partition}/${origin.offset}`,
      'dead-letter-time': new Date().toISOString(),
    };
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers }],
    });
  }
}
