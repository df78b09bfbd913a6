/**
 * Clients in other languages, as users' services already are: the Python SDK with its OpenTelemetry
 * TracingInterceptor, the Go SDK with its OpenTelemetry interceptor, and the Temporal CLI. They start
 * the sample domain's workflows on the shared queue with the key in OpenTelemetry baggage only, so
 * the worker's first-task check is their only routing. Against the real stack with a baseline and a
 * sandbox worker process; every case must end on the key's owner with every signal and update
 * accounted for.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { runProcess, stackEnv } from '@sandbox-routing/testkit';
import { Client, Connection } from '@temporalio/client';
import { ensureTemporalCli } from '../../stack/tools';
import {
  type ClientCase,
  type ClientOptions,
  type ClientRun,
  GO_CASES,
  PYTHON_CASES,
  runForeignClient,
  type SampleResult,
  WorkerPair,
} from '../foreign-clients';

const env = stackEnv();

/**
 * The workflow and the order worker's activities ran on `instance`; the charge went to the payments
 * service's baseline (no sandbox here forks it), and every step saw the same key.
 */
function assertRanOn(result: SampleResult, instance: string, taskQueue: string, key: string | null): void {
  assert.deepEqual(result.workflow, { instance, taskQueue }, 'workflow placement');
  assert.equal(result.routingKey, key);
  assert.deepEqual(
    result.activities.map((a) => a.name),
    ['reserveInventory', 'priceOrder', 'chargePayment', 'sendConfirmation'],
  );
  for (const activity of result.activities) {
    const [expectedInstance, expectedQueue] =
      activity.name === 'chargePayment' ? ['baseline', 'payments'] : [instance, taskQueue];
    assert.equal(activity.instance, expectedInstance, `${activity.name} ran on ${activity.instance}`);
    assert.equal(activity.taskQueue, expectedQueue);
    assert.equal(activity.routingKey, key, `${activity.name} saw key ${activity.routingKey}`);
  }
}

/** Every approval sent reached the run that finished, once, in order (signals) or via its update. */
function assertAccountedFor(run: ClientRun, placement: { instance: string; taskQueue: string }): void {
  const expected = [
    ...run.signals.map((approvedBy) => ({ approvedBy, via: 'signal' as const })),
    ...(run.receipts ?? []).map((r) => ({ approvedBy: r.approvedBy, via: 'update' as const })),
  ];
  if (run.case === 'start') return;
  assert.deepEqual(run.result.approvals, expected, `${run.case}: approvals`);
  for (const receipt of run.receipts ?? [])
    assert.deepEqual(receipt.workflow, placement, 'update handled by');
}

describe('foreign clients (Python, Go, Temporal CLI) on the shared queue', () => {
  const workers = new WorkerPair(
    env.TEMPORAL_ADDRESS,
    env.SIGNADOT_ROUTESERVER_URL,
    env.SIGNADOT_ROUTESERVER_GRPC_ADDRESS,
  );
  let connection: Connection;
  let client: Client;

  before(async () => {
    await workers.start();
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    client = new Client({ connection });
  });

  after(async () => {
    await workers.stop();
    await connection?.close();
  });

  const sandbox = () => ({ instance: workers.sandbox, taskQueue: workers.sandboxQueue });
  const baseline = () => ({ instance: 'baseline', taskQueue: workers.sharedQueue });

  /** Runs a client case keyed for the sandbox and checks it ran there, every event accounted for. */
  async function runOnSandbox(
    language: 'python' | 'go',
    options: Pick<ClientOptions, 'case' | 'baggageValue'>,
  ): Promise<ClientRun> {
    const [run] = await runForeignClient(language, env.TEMPORAL_ADDRESS, {
      taskQueue: workers.sharedQueue,
      key: workers.key,
      ...options,
    });
    assert.ok(run);
    assertRanOn(run.result, workers.sandbox, workers.sandboxQueue, workers.key);
    assertAccountedFor(run, sandbox());
    return run;
  }

  for (const clientCase of PYTHON_CASES) {
    it(`Python TracingInterceptor, sandbox key: ${clientCase} ends on the sandbox, nothing lost`, async () => {
      const run = await runOnSandbox('python', { case: clientCase });
      assert.equal(run.result.pricing, 'v2-discount');
      for (const query of run.queries ?? []) {
        assert.equal(query.error, undefined, `query answered (${query.ms} ms)`);
        assert.ok(query.answer === 'waiting' || query.answer === 'approved');
      }
      if (clientCase === 'signal-with-start' || clientCase === 'start-then-signal')
        assert.ok(run.signals.length >= 1);
    });
  }

  it('Python: a key with a ;property (sent as K%3Bprop%3D1 in _tracer-data) is routed by the key', async () => {
    await runOnSandbox('python', { baggageValue: `${workers.key};prop=1`, case: 'signal-with-start' });
  });

  for (const clientCase of ['update-with-start', 'start-then-update', 'query'] satisfies ClientCase[]) {
    it(`Python, a key no sandbox owns: ${clientCase} is handled on the baseline from the first task`, async () => {
      const key = `nobody${randomUUID().slice(0, 8)}`;
      const [run] = await runForeignClient('python', env.TEMPORAL_ADDRESS, {
        taskQueue: workers.sharedQueue,
        key,
        case: clientCase,
      });
      assert.ok(run);
      assertRanOn(run.result, 'baseline', workers.sharedQueue, key);
      assertAccountedFor(run, baseline());
      for (const query of run.queries ?? []) assert.equal(query.error, undefined);
    });
  }

  for (const clientCase of GO_CASES) {
    it(`Go OpenTelemetry interceptor, sandbox key: ${clientCase} ends on the sandbox`, async () => {
      await runOnSandbox('go', { case: clientCase });
    });
  }

  it('Temporal CLI: `temporal workflow start` on the shared queue (no headers possible) lands on the baseline', async () => {
    const workflowId = `cli-${randomUUID()}`;
    const event = { id: workflowId, type: 'order.created', time: '2026-01-01T00:00:00Z', payload: {} };
    const started = await runProcess(
      ensureTemporalCli(),
      [
        ...['workflow', 'start', '--address', env.TEMPORAL_ADDRESS, '--task-queue', workers.sharedQueue],
        ...['--type', 'processOrder', '--workflow-id', workflowId, '--input', JSON.stringify(event)],
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(started.code, 0, started.stderr);
    const result = (await client.workflow.getHandle(workflowId).result()) as SampleResult;
    assertRanOn(result, 'baseline', workers.sharedQueue, null);
  });
});
