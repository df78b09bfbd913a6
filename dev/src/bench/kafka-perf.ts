import path from 'node:path';
import { runProcess } from '@sandbox-routing/testkit';
import { REPO_ROOT } from '../stack/paths';

/** Kafka's own perf tools (ProducerPerformance, ConsumerPerformance from the stack's jars). */
export interface KafkaPerf {
  /** Unthrottled: records per second produced, and the producer's latencies then. */
  producerRecordsPerSecond: number;
  producerLatencyMs: { avg: number; p50: number; p99: number; max: number };
  /** Throttled to `rate`: the producer's latencies at a rate the pipeline sees. */
  atRate: { rate: number; p50: number; p99: number; max: number };
  consumerRecordsPerSecond: number;
  recordSize: number;
}

function kafkaTool(args: string[], brokers: string) {
  return runProcess('bash', [path.join(REPO_ROOT, 'dev/bin/kafka-cli.sh'), ...args], {
    env: { KAFKA_BROKERS: brokers },
    timeoutMs: 300_000,
  });
}

/**
 * Parses ProducerPerformance's final line: "N records sent, R records/sec (M MB/sec), A ms avg latency,
 * X ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th."
 */
export function parseProducerSummary(output: string) {
  const line = output.split('\n').find((l) => / records sent, .* 50th/.test(l));
  const number = (pattern: RegExp) => Number(pattern.exec(line ?? '')?.[1] ?? Number.NaN);
  if (!line) throw new Error(`no summary line in the producer perf output:\n${output.slice(-2000)}`);
  return {
    recordsPerSecond: number(/ ([\d.]+) records\/sec/),
    avg: number(/([\d.]+) ms avg latency/),
    max: number(/([\d.]+) ms max latency/),
    p50: number(/([\d.]+) ms 50th/),
    p99: number(/([\d.]+) ms 99th/),
  };
}

/** Parses ConsumerPerformance's CSV line: the sixth column is nMsg.sec. */
export function parseConsumerSummary(output: string): number {
  const lines = output.trim().split('\n');
  const header = lines.findIndex((l) => l.startsWith('start.time'));
  const values = lines[header + 1]?.split(',').map((v) => v.trim());
  const rate = Number(values?.[5]);
  if (!Number.isFinite(rate))
    throw new Error(`no summary in the consumer perf output:\n${output.slice(-2000)}`);
  return rate;
}

/**
 * Produces `records` records of `recordSize` bytes to a new topic (3 partitions, acks=all) as fast as
 * possible, then `rate` records/s for 10 s, then consumes them all; deletes the topic.
 */
export async function kafkaPerf(
  brokers: string,
  options: { records: number; recordSize: number; rate: number },
) {
  const topic = `bench-perf-${Date.now().toString(36)}`;
  const bootstrap = `bootstrap.servers=${brokers.split(',')[0]}`;
  const created = await kafkaTool(
    ['topics', '--create', '--topic', topic, '--partitions', '3', '--replication-factor', '1'],
    brokers,
  );
  if (created.code !== 0) throw new Error(`creating ${topic} failed: ${created.stderr}`);
  try {
    const produce = async (records: number, throughput: number) => {
      const run = await kafkaTool(
        [
          'producer-perf-test',
          '--topic',
          topic,
          '--num-records',
          String(records),
          '--record-size',
          String(options.recordSize),
          '--throughput',
          String(throughput),
          '--producer-props',
          bootstrap,
          'acks=all',
        ],
        brokers,
      );
      if (run.code !== 0) throw new Error(`producer-perf-test failed: ${run.stderr}`);
      return parseProducerSummary(run.stdout);
    };
    const max = await produce(options.records, -1);
    const paced = await produce(options.rate * 10, options.rate);
    const consumed = await kafkaTool(
      ['consumer-perf-test', '--topic', topic, '--messages', String(options.records)],
      brokers,
    );
    if (consumed.code !== 0) throw new Error(`consumer-perf-test failed: ${consumed.stderr}`);
    return {
      producerRecordsPerSecond: Math.round(max.recordsPerSecond),
      producerLatencyMs: { avg: max.avg, p50: max.p50, p99: max.p99, max: max.max },
      atRate: { rate: options.rate, p50: paced.p50, p99: paced.p99, max: paced.max },
      consumerRecordsPerSecond: Math.round(parseConsumerSummary(consumed.stdout)),
      recordSize: options.recordSize,
    } satisfies KafkaPerf;
  } finally {
    await kafkaTool(['topics', '--delete', '--topic', topic], brokers);
  }
}
