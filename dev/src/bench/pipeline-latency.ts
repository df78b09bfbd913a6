import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Command, Option } from 'commander';
import { type Consumer, Partitioners } from 'kafkajs';
import { Pipeline, stackEnvFrom } from '../pipeline/pipeline';
import { STACK_DIR } from '../stack/paths';
import { down, isUp, up } from '../stack/stack';
import { percentile } from './route-defaults';
import { runBench } from './run';

/**
 * Benchmark: end-to-end latency (publish → workflow completed) at a modest, paced rate, with every
 * service a real process on the local stack, for three paths:
 *
 * - baseline: no key; the baseline ingress starts it on the baseline worker;
 * - forwarded: the key of a sandbox that forks the ingress and the worker; the baseline ingress
 *   forwards the record to the sandbox's topic, the fork's ingress starts it on the fork's worker;
 * - door-routed: the key of a sandbox that forks only the worker; the baseline ingress starts it on
 *   the fork's worker directly.
 *
 * The forward's cost is measured twice: as the hop itself (when a consumer of the events topic and a
 * consumer of the sandbox topic, both in this process, receive the same event) and as the difference
 * between the forwarded and the door-routed path end to end. Prints numbers; asserts nothing.
 *
 * Tracing's cost per event: with `--tracing both` (the default) the run is made with the services
 * exporting every span to the stack's Jaeger and with them exporting none, `--rounds` times each in
 * the order on, off, off, on, … (so a machine that gets busier or quieter weighs on both alike); the
 * latencies of each mode are pooled and their p50s compared per path.
 */

const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');

/** A consumer that notes when each event id arrives on `topic`. */
async function arrivals(pipeline: Pipeline, topic: string, seen: Map<string, number>): Promise<Consumer> {
  const consumer = pipeline.kafka().consumer({ groupId: `bench-${randomUUID()}`, maxWaitTimeInMs: 100 });
  let joined!: () => void;
  const member = new Promise<void>((resolve) => {
    joined = resolve;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const id = message.key?.toString();
      if (id && !seen.has(id)) seen.set(id, performance.now());
    },
  });
  await member;
  return consumer;
}

type Path = 'baseline' | 'forwarded' | 'door-routed';
type Tracing = 'on' | 'off';

/** One run: the three paths' end-to-end latencies (ms), sorted. */
async function run(
  options: { rate: number; seconds: number },
  tracing: Tracing,
): Promise<Record<Path, number[]>> {
  const stack = stackEnvFrom(await up());
  if (tracing === 'on' && !stack.OTEL_EXPORTER_OTLP_ENDPOINT) {
    throw new Error('--tracing on needs the stack with its Jaeger (STACK_TRACING=on, the default)');
  }
  const id = randomUUID().slice(0, 6);
  const pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `bench-${id}`), {
    LOG_LEVEL: 'warn',
    // off: no span leaves a process (trace context still propagates, as with OTEL_TRACES_EXPORTER=none).
    OTEL_TRACES_EXPORTER: tracing === 'on' ? 'otlp' : 'none',
  });
  const measured: Record<Path, number[]> = { baseline: [], forwarded: [], 'door-routed': [] };
  const forked = { name: `bench-${id}`, key: `bench${id}key` };
  const workerOnly = { name: `benchw-${id}`, key: `benchw${id}key` };
  const consumers: Consumer[] = [];
  try {
    await pipeline.registerSandbox(forked.name, forked.key, ['ingress', 'worker']);
    await pipeline.registerSandbox(workerOnly.name, workerOnly.key, ['worker']);
    await pipeline.startServices([
      { name: forked.name, forks: ['ingress', 'worker'] },
      { name: workerOnly.name, forks: ['worker'] },
    ]);
    const inEvents = new Map<string, number>();
    const inSandboxTopic = new Map<string, number>();
    consumers.push(
      await arrivals(pipeline, pipeline.topic, inEvents),
      await arrivals(pipeline, pipeline.sandboxTopic(forked.name), inSandboxTopic),
    );

    const producer = pipeline.kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const total = Math.round(options.rate * options.seconds);
    const paths: { path: Path; key: string | undefined; owner: string; ingress: string }[] = [
      { path: 'baseline', key: undefined, owner: 'baseline', ingress: 'baseline' },
      { path: 'forwarded', key: forked.key, owner: forked.name, ingress: forked.name },
      { path: 'door-routed', key: workerOnly.key, owner: workerOnly.name, ingress: 'baseline' },
    ];
    const sent: { eventId: string; path: Path; owner: string; ingress: string }[] = [];
    const start = Date.now();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / options.rate;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      const route = paths[i % paths.length] as (typeof paths)[number];
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
            headers: route.key ? { baggage: `sd-routing-key=${route.key}` } : {},
          },
        ],
      });
      sent.push({ eventId, path: route.path, owner: route.owner, ingress: route.ingress });
    }
    await producer.disconnect();
    const outcomes = await pipeline.awaitOutcomes(
      sent.map((s) => s.eventId),
      180_000,
    );

    console.log(
      `tracing ${tracing}: ${total} events at ${options.rate}/s for ${options.seconds} s, a third each: no key; sandbox ${forked.name} ` +
        `(forks ingress and worker: forwarded); sandbox ${workerOnly.name} (forks the worker only: door-routed)`,
    );
    const p50p99: Record<string, [number, number]> = {};
    for (const route of paths) {
      const mine = sent.filter((s) => s.path === route.path);
      const latencies = mine
        .flatMap((s) => {
          const latency = outcomes.get(s.eventId)?.latencyMs;
          return latency === undefined ? [] : [latency];
        })
        .sort((a, b) => a - b);
      const wrong = mine.filter((s) => {
        const o = outcomes.get(s.eventId);
        return (
          !o || o.ranOn !== s.owner || o.ingestedBy !== s.ingress || o.activitiesOn.some((a) => a !== s.owner)
        );
      });
      p50p99[route.path] = [percentile(latencies, 50), percentile(latencies, 99)];
      measured[route.path].push(...latencies);
      console.log(
        `${route.path.padEnd(12)} n=${latencies.length}  p50 ${ms(percentile(latencies, 50))}  p90 ${ms(percentile(latencies, 90))}  p99 ${ms(percentile(latencies, 99))}  max ${ms(latencies.at(-1) ?? Number.NaN)}  misplaced ${wrong.length}`,
      );
    }
    const hops = sent
      .filter((s) => s.path === 'forwarded')
      .flatMap((s) => {
        const from = inEvents.get(s.eventId);
        const to = inSandboxTopic.get(s.eventId);
        return from === undefined || to === undefined ? [] : [to - from];
      })
      .sort((a, b) => a - b);
    console.log(
      `forward hop (seen on ${pipeline.topic} → seen on its sandbox topic): n=${hops.length}  p50 ${ms(percentile(hops, 50))}  p99 ${ms(percentile(hops, 99))}`,
    );
    const [fp50, fp99] = p50p99.forwarded ?? [Number.NaN, Number.NaN];
    const [dp50, dp99] = p50p99['door-routed'] ?? [Number.NaN, Number.NaN];
    console.log(`end to end, forwarded − door-routed: p50 ${ms(fp50 - dp50)}, p99 ${ms(fp99 - dp99)}`);
  } finally {
    for (const consumer of consumers) await consumer.disconnect();
    await pipeline.stop();
    await Promise.all([pipeline.deleteSandbox(forked.name), pipeline.deleteSandbox(workerOnly.name)]);
  }
  return measured;
}

interface Options {
  rate: number;
  seconds: number;
  tracing: Tracing | 'both';
  rounds: number;
}

async function main(options: Options): Promise<void> {
  const startedStack = !isUp();
  try {
    const pooled: Record<Tracing, Record<Path, number[]>> = {
      on: { baseline: [], forwarded: [], 'door-routed': [] },
      off: { baseline: [], forwarded: [], 'door-routed': [] },
    };
    for (let round = 0; round < options.rounds; round++) {
      const order: Tracing[] = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
      for (const mode of options.tracing === 'both' ? order : [options.tracing]) {
        const measured = await run(options, mode);
        for (const [route, latencies] of Object.entries(measured) as [Path, number[]][])
          pooled[mode][route].push(...latencies);
      }
    }
    if (options.tracing !== 'both') return;
    const p50 = (values: number[]) =>
      percentile(
        [...values].sort((a, b) => a - b),
        50,
      );
    console.log(
      `tracing per event over ${options.rounds} round(s), p50 with every span exported − with none:`,
    );
    for (const route of ['baseline', 'forwarded', 'door-routed'] as const) {
      const [on, off] = [p50(pooled.on[route]), p50(pooled.off[route])];
      console.log(
        `  ${route.padEnd(12)} ${on - off >= 0 ? '+' : ''}${ms(on - off)}  (off ${ms(off)}, on ${ms(on)}; n=${pooled.off[route].length}+${pooled.on[route].length})`,
      );
    }
  } finally {
    if (startedStack) await down();
  }
}

runBench(
  new Command()
    .name('bench-pipeline-latency')
    .option('--rate <n>', 'events per second', (v) => Number(v), 10)
    .option('--seconds <n>', 'how long to publish', (v) => Number(v), 30)
    .addOption(
      new Option('--tracing <mode>', "on (every span exported to the stack's Jaeger), off, or both")
        .choices(['on', 'off', 'both'])
        .default('both'),
    )
    .option('--rounds <n>', 'runs per mode, alternating on and off', (v) => Number(v), 1)
    .action((options: Options) => main(options)),
);
