// @runs-alone: stops and restarts the stack's Kafka and Temporal (dev/src/test-runner.ts runs it with no other test file beside it).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { freePort, pollUntil, stackEnv, startProcess } from '@sandbox-routing/testkit';
import { AssignerProtocol, type Consumer, type PartitionAssigner } from 'kafkajs';
import { Pipeline } from '../../pipeline/pipeline';
import type { ServiceProcess } from '../../pipeline/service-process';
import { REPO_ROOT, STACK_DIR } from '../../stack/paths';
import { stopService, up } from '../../stack/stack';

const stack = stackEnv();
const id = randomUUID().slice(0, 6);
/** What the issue asks: readiness says so within 5 s of an outage. */
const OUTAGE_NOTICED_MS = 5000;
/** How long the broker outage lasts at least. */
const OUTAGE_MS = 20_000;
/**
 * Warnings an ingress may write for the whole broker outage: one per condition (kafka unreachable; each
 * kafkajs condition once; the consumer's crashes, each restarted), never one per retry of every client.
 */
const MAX_OUTAGE_WARNINGS = 12;

interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}

async function readiness(service: { httpUrl: string }): Promise<Readiness> {
  const response = await fetch(`${service.httpUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
  return (await response.json()) as Readiness;
}

/** Polls until readiness is false because of `check`; fails if that takes longer than `deadlineMs` from `since`. */
async function notReadyBecause(
  service: ServiceProcess,
  check: string,
  since: number,
  deadlineMs = OUTAGE_NOTICED_MS,
) {
  await pollUntil(
    async () => {
      const state = await readiness(service);
      return !state.ready && state.checks[check] === false;
    },
    {
      description: `${service.name} to report ${check}=false within ${deadlineMs} ms of the outage`,
      timeoutMs: Math.max(0, deadlineMs - (Date.now() - since)),
      intervalMs: 100,
    },
  );
}

/** The last lines of a service's log, for an assertion's message. */
function logTail(service: ServiceProcess, lines = 15): string {
  return readFileSync(service.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Lines of a service's log that are not JSON (something printed past the logger: a warning, a crash). */
function plainLines(service: ServiceProcess): string[] {
  return readFileSync(service.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('{'));
}

async function readyAgain(service: ServiceProcess, timeoutMs = 60_000) {
  await pollUntil(async () => (await readiness(service)).ready, {
    description: `${service.name} to be ready again`,
    timeoutMs,
  });
}

describe('outages and health', () => {
  /** Each test's own pipeline (topics, group, queue, log directory): nothing carries over between tests. */
  const pipelines: Pipeline[] = [];
  async function isolatedPipeline(test: string): Promise<Pipeline> {
    const pipeline = await Pipeline.isolated(stack, path.join(STACK_DIR, 'logs', `e2e-outages-${id}`, test), {
      LOG_LEVEL: 'info',
    });
    pipelines.push(pipeline);
    return pipeline;
  }

  // Whatever the test before did (a server stopped, a failed assertion half-way), each test starts on a
  // whole stack and leaves nothing running.
  beforeEach(async () => {
    await up();
  });
  afterEach(async () => {
    await up();
    for (const pipeline of pipelines.splice(0)) await pipeline.stop();
  });

  it('answers /healthz from the start, /readyz only once it consumes, and stops cleanly while still connecting', async () => {
    const port = await freePort();
    const deadBrokers = `127.0.0.1:${await freePort()}`;
    const ingress = startProcess(
      process.execPath,
      [
        '--require',
        path.join(REPO_ROOT, 'ingress/dist/instrument.js'),
        path.join(REPO_ROOT, 'ingress/dist/main.js'),
      ],
      {
        env: {
          KAFKA_BROKERS: deadBrokers,
          TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
          SIGNADOT_ROUTESERVER_URL: stack.SIGNADOT_ROUTESERVER_URL,
          HTTP_PORT: String(port),
          LOG_LEVEL: 'info',
        },
        timeoutMs: 120_000,
      },
    );
    try {
      const service = { httpUrl: `http://127.0.0.1:${port}` };
      await pollUntil(async () => (await fetch(`${service.httpUrl}/healthz`)).ok, {
        description: '/healthz to answer while no broker is reachable',
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      const state = await readiness(service);
      assert.equal(state.ready, false);
      assert.equal(state.checks['consumer-member'], false);
      assert.equal(state.checks['kafka-reachable'], false);
    } finally {
      // SIGTERM while kafkajs still tries to connect: a clean stop, not a failure to start.
      ingress.kill('SIGTERM');
    }
    const run = await ingress.done;
    const logDir = path.join(STACK_DIR, 'logs', `e2e-outages-${id}`);
    mkdirSync(logDir, { recursive: true });
    writeFileSync(path.join(logDir, 'ingress-no-brokers.log'), run.stdout + run.stderr);
    assert.equal(run.code, 0, `a clean exit\n${run.stdout.slice(-2000)}\n${run.stderr}`);
    assert.match(run.stdout, /"msg":"ingress stopped"/);
  });

  it('is not ready within 5 s of a Temporal outage, stops within seconds mid-back-off, and loses nothing', async () => {
    const pipeline = await isolatedPipeline('temporal-outage');
    const worker = await pipeline.startWorker();
    const ingress = await pipeline.startIngress();
    const before = await pipeline.publish({ count: 3, idPrefix: `pre-${id}` });
    await pipeline.awaitOutcomes(before.events.map((e) => e.id));
    const expected: Record<number, number> = {};
    for (const e of before.events)
      expected[e.partition] = Math.max(expected[e.partition] ?? 0, Number(e.offset) + 1);
    const offsets = await pollUntil(
      async () => {
        const now = await pipeline.committedOffsets();
        return Object.entries(expected).every(([p, o]) => now[Number(p)] === o) ? now : undefined;
      },
      { description: 'the processed events to be committed', timeoutMs: 20_000 },
    );

    await stopService('temporal');
    const outage = Date.now();
    await notReadyBecause(ingress, 'temporal-reachable', outage);
    await notReadyBecause(worker, 'temporal-reachable', outage);

    const during = await pipeline.publish({ count: 6, idPrefix: `down-${id}` });
    await pipeline.awaitMetric(
      ingress,
      {
        name: 'sandbox_routing_ingress_backing_off_partitions',
        labels: 'operation="workflow start"',
        atLeast: 1,
      },
      { description: 'the ingress to back off its workflow starts', timeoutMs: 30_000 },
    );
    assert.deepEqual(await pipeline.committedOffsets(), offsets, 'nothing committed while Temporal is down');

    // SIGTERM in the middle of the back-off: out in seconds, the event in hand left uncommitted.
    const stopping = Date.now();
    const code = await pipeline.stopService(ingress);
    const stopMs = Date.now() - stopping;
    await ingress.logClosed;
    assert.equal(code, 0, `a clean exit; the log ends with:\n${logTail(ingress)}`);
    assert.ok(stopMs < 10_000, `stopped in ${stopMs} ms`);
    assert.match(logTail(ingress), /"msg":"ingress stopping"[\s\S]*"msg":"ingress stopped"/);
    assert.deepEqual(plainLines(ingress), [], 'everything it printed is a JSON log line');
    assert.deepEqual(await pipeline.committedOffsets(), offsets, 'nothing committed by the shutdown either');

    await up();
    await pipeline.startIngress();
    const outcomes = await pipeline.awaitOutcomes(
      during.events.map((e) => e.id),
      120_000,
    );
    for (const [eventId, outcome] of outcomes) assert.equal(outcome.status, 'COMPLETED', eventId);
    await readyAgain(worker);
  });

  it('is not ready within 5 s of a broker outage, ready again after; a publish started meanwhile rides it out', async () => {
    const pipeline = await isolatedPipeline('broker-outage');
    await pipeline.startWorker();
    const ingress = await pipeline.startIngress();

    await stopService('kafka');
    const outage = Date.now();
    await notReadyBecause(ingress, 'kafka-reachable', outage);

    // The producer starts while no broker answers and keeps retrying (PUBLISH_RETRY_TIMEOUT_MS): the
    // broker comes back only after the producer has said so, past kafkajs's own few retries.
    const publishing = spawn(
      process.execPath,
      [
        path.join(REPO_ROOT, 'producer/dist/cli.js'),
        'publish',
        '--json',
        '--count',
        '5',
        '--id-prefix',
        `outage-${id}`,
      ],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: stack.KAFKA_BROKERS,
          KAFKA_TOPIC: pipeline.topic,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    publishing.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    publishing.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => publishing.once('close', (code) => resolve(code)));
    try {
      await pollUntil(() => /reaching Kafka failed; retrying/.test(stderr), {
        description: 'the producer to retry while the broker is away',
        timeoutMs: 60_000,
      });
      // The outage lasts at least OUTAGE_MS in all: long enough for every client to retry many times.
      await pollUntil(() => Date.now() - outage >= OUTAGE_MS, {
        description: `the outage to last ${OUTAGE_MS} ms`,
        timeoutMs: OUTAGE_MS,
      });
      await up();
      assert.equal(await exited, 0, stderr);
    } finally {
      publishing.kill('SIGKILL');
    }
    const summary = JSON.parse(stdout) as { sent: number; events: { id: string }[] };
    assert.equal(summary.sent, 5);

    await readyAgain(ingress, 90_000);
    const outcomes = await pipeline.awaitOutcomes(
      summary.events.map((e) => e.id),
      120_000,
    );
    for (const [eventId, outcome] of outcomes) assert.equal(outcome.status, 'COMPLETED', eventId);

    // An expected, transient outage is a few warnings (one per condition), not a stream of errors.
    const lines = readFileSync(ingress.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; component?: string });
    const errors = lines.filter((line) => line.level >= 50);
    const warnings = lines.filter((line) => line.level === 40);
    assert.deepEqual(
      errors.map((line) => `${line.component ?? 'ingress'}: ${line.msg}`),
      [],
      'no error line for a broker outage',
    );
    assert.ok(
      warnings.length <= MAX_OUTAGE_WARNINGS,
      `${warnings.length} warnings:\n${warnings.map((line) => `${line.component ?? 'ingress'}: ${line.msg}`).join('\n')}`,
    );
  });

  it('exits non-zero when its consumer crashes and kafkajs will not restart it', async () => {
    const pipeline = await isolatedPipeline('consumer-crash');
    // Another application holds the consumer group with another assignment protocol: the broker
    // refuses the ingress's join (INCONSISTENT_GROUP_PROTOCOL), and kafkajs gives up.
    const group = `foreign-${id}`;
    const other: PartitionAssigner = () => ({
      name: 'ForeignProtocol',
      version: 1,
      assign: async ({ members }) =>
        members.map((member) => ({
          memberId: member.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: {},
            userData: Buffer.alloc(0),
          }),
        })),
      protocol: ({ topics }) => ({
        name: 'ForeignProtocol',
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
      }),
    });
    const foreign: Consumer = pipeline.kafka().consumer({ groupId: group, partitionAssigners: [other] });
    await foreign.connect();
    try {
      await foreign.subscribe({ topic: pipeline.topic });
      await foreign.run({ eachMessage: async () => {} });
      await assert.rejects(pipeline.startIngress('', { KAFKA_CONSUMER_GROUP: group }), /exited with 1/);
      const log = await pollUntil(
        () => {
          const text = readFileSync(
            path.join(STACK_DIR, 'logs', `e2e-outages-${id}`, 'consumer-crash', 'ingress-baseline.log'),
            'utf8',
          );
          return /"msg":"ingress stopped"/.test(text) ? text : undefined;
        },
        { description: 'the ingress log to be complete', timeoutMs: 5000 },
      );
      assert.match(log, /will not restart/);
    } finally {
      await foreign.disconnect();
    }
  });
});
