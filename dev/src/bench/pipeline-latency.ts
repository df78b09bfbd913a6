import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Command } from 'commander';
import { Partitioners } from 'kafkajs';
import { Pipeline } from '../pipeline/pipeline';
import { STACK_DIR } from '../stack/paths';
import { down, isUp, up } from '../stack/stack';
import { percentile } from './route-defaults';

/**
 * Benchmark: end-to-end latency (publish → workflow completed) for baseline and sandbox events at a
 * modest, paced rate, with every service a real process on the local stack. Prints percentiles and
 * how many events ran anywhere but their owner; asserts nothing.
 */

async function main(options: { rate: number; seconds: number }): Promise<void> {
  const startedStack = !isUp();
  const addresses = await up();
  const stack = {
    KAFKA_BROKERS: addresses.KAFKA_BROKERS ?? '',
    TEMPORAL_ADDRESS: addresses.TEMPORAL_ADDRESS ?? '',
    TEMPORAL_UI_URL: addresses.TEMPORAL_UI_URL ?? '',
    SIGNADOT_ROUTESERVER_URL: addresses.SIGNADOT_ROUTESERVER_URL ?? '',
    SIGNADOT_ROUTESERVER_GRPC_ADDRESS: addresses.SIGNADOT_ROUTESERVER_GRPC_ADDRESS ?? '',
  };
  const id = randomUUID().slice(0, 6);
  const pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `bench-${id}`), {
    LOG_LEVEL: 'warn',
  });
  const sandbox = { name: `bench-${id}`, key: `bench${id}key` };
  try {
    await pipeline.registerSandbox(sandbox.name, sandbox.key, ['ingress', 'worker']);
    await Promise.all([
      pipeline.startWorker(),
      pipeline.startIngress(),
      pipeline.startWorker(sandbox.name),
      pipeline.startIngress(sandbox.name),
    ]);
    const producer = pipeline.kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const total = Math.round(options.rate * options.seconds);
    const sent: { eventId: string; expected: string }[] = [];
    const start = Date.now();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / options.rate;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      const toSandbox = i % 2 === 1;
      const eventId = `lat-${id}-${i}`;
      await producer.send({
        topic: pipeline.topic,
        messages: [
          {
            key: eventId,
            value: JSON.stringify({
              id: eventId,
              type: 'order.created',
              time: new Date().toISOString(),
              payload: {},
            }),
            headers: toSandbox ? { baggage: `sd-routing-key=${sandbox.key}` } : {},
          },
        ],
      });
      sent.push({ eventId, expected: toSandbox ? sandbox.name : 'baseline' });
    }
    await producer.disconnect();
    const outcomes = await Promise.all(
      sent.map(async (s) => ({ ...s, ...(await pipeline.outcome(s.eventId, 120_000)) })),
    );
    console.log(
      `${total} events at ${options.rate}/s for ${options.seconds} s, half to sandbox ${sandbox.name}`,
    );
    for (const kind of ['baseline', sandbox.name]) {
      const mine = outcomes.filter((o) => o.expected === kind);
      const latencies = mine
        .flatMap((o) => (o.latencyMs === undefined ? [] : [o.latencyMs]))
        .sort((a, b) => a - b);
      const wrong = mine.filter(
        (o) => o.ranOn !== kind || o.ingestedBy !== kind || o.activitiesOn.some((a) => a !== kind),
      );
      console.log(
        `${(kind === 'baseline' ? 'baseline' : 'sandbox').padEnd(9)} n=${latencies.length}  p50 ${percentile(latencies, 50)} ms  p90 ${percentile(latencies, 90)} ms  p99 ${percentile(latencies, 99)} ms  max ${latencies.at(-1)} ms  wrong placements ${wrong.length}`,
      );
    }
  } finally {
    await pipeline.stop();
    await pipeline.deleteSandbox(sandbox.name);
    if (startedStack) await down();
  }
}

new Command()
  .name('bench-pipeline-latency')
  .option('--rate <n>', 'events per second', (v) => Number(v), 10)
  .option('--seconds <n>', 'how long to publish', (v) => Number(v), 30)
  .action((options: { rate: number; seconds: number }) => main(options))
  .parseAsync()
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
