import { randomUUID } from 'node:crypto';
import { type IHeaders, Kafka, type KafkaConfig, type KafkaMessage, logLevel } from 'kafkajs';
import { pollUntil } from './poll';

/** A fresh topic per test (the local broker does not auto-create topics). */
export async function createTestTopic(brokers: string[], prefix: string, numPartitions = 1): Promise<string> {
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** A message read back, with its partition. */
export interface ReadMessage {
  partition: number;
  message: KafkaMessage;
}

/**
 * Reads `count` messages from the start of `topic` with kafkajs, polling with a deadline; `security`
 * for a listener that takes TLS and SASL.
 */
export async function readMessages(
  brokers: string[],
  topic: string,
  count: number,
  security: Pick<KafkaConfig, 'ssl' | 'sasl'> = {},
): Promise<ReadMessage[]> {
  // A short fetch long-poll: disconnect() waits for the fetch in flight.
  const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING, ...security }).consumer({
    groupId: `reader-${randomUUID()}`,
    maxWaitTimeInMs: 100,
  });
  const received: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({ partition, message });
      },
    });
    await pollUntil(() => received.length >= count, {
      description: `${count} message(s) on ${topic}`,
      timeoutMs: 30_000,
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** Header values as strings (kafkajs delivers Buffers, or arrays of them for repeated headers). */
export function headerStrings(headers: IHeaders | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map((v) => v.toString()) : value.toString();
  }
  return out;
}
