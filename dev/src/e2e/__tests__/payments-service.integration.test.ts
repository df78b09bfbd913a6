import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pollUntil, stackEnv } from '@sandbox-routing/testkit';
import { Pipeline } from '../../pipeline/pipeline';
import type { ServiceProcess } from '../../pipeline/service-process';
import { STACK_DIR } from '../../stack/paths';

const id = randomUUID().slice(0, 6);
const logDir = path.join(STACK_DIR, 'logs', `e2e-payments-${id}`);

/** The JSON line the payments service logs once it polls (its 'worker started' line). */
function startedLine(service: ServiceProcess): Record<string, unknown> | undefined {
  return readFileSync(service.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => line.msg === 'worker started');
}

/**
 * The harness starts the Python payments service like the node services: a real process, its log in the
 * pipeline's log dir, ready when its /readyz says so; the baseline on the pipeline's payments queue, a
 * fork on `<queue>@<sandbox>` with the pull request's variant. (What it computes and the key it sees are
 * payments/tests' business: pytest, against the same stack.)
 */
describe('pipeline.startPayments: the Python payments service as a pipeline process', () => {
  let pipeline: Pipeline;

  before(async () => {
    pipeline = await Pipeline.isolated(stackEnv(), logDir);
  });

  after(async () => {
    await pipeline?.stop();
  });

  it('starts the baseline and forks (one named baseline too), each polling its own queue, and stops them with exit 0', {
    timeout: 120_000,
  }, async () => {
    const forkName = `pay-${id}`;
    const [baseline, fork, namedBaseline] = await Promise.all([
      pipeline.startPayments(),
      pipeline.startPayments(forkName),
      pipeline.startPayments('baseline'),
    ]);
    const expected = [
      [baseline, 'payments-baseline', 'baseline', pipeline.paymentsTaskQueue, 'standard'],
      [fork, `payments-${forkName}`, forkName, `${pipeline.paymentsTaskQueue}@${forkName}`, 'v2'],
      [
        namedBaseline,
        'payments-sandbox:baseline',
        'sandbox:baseline',
        `${pipeline.paymentsTaskQueue}@baseline`,
        'v2',
      ],
    ] as const;
    for (const [service, name, instance, taskQueue, variant] of expected) {
      assert.equal(service.name, name);
      assert.equal(path.dirname(service.logFile), logDir);
      assert.equal((await fetch(`${service.httpUrl}/readyz`)).status, 200);
      // The line follows the state /readyz reports: it may reach the log a moment later.
      const line = await pollUntil(() => startedLine(service), {
        description: `${name} to log that it started`,
        timeoutMs: 10_000,
      });
      assert.deepEqual(
        { service: line.service, instance: line.instance, taskQueue: line.taskQueue, variant: line.variant },
        { service: 'payments', instance, taskQueue, variant },
      );
      assert.equal(await pipeline.metric(service, 'payments_activities_total'), 0);
    }
    for (const [service] of expected) assert.equal(await pipeline.stopService(service), 0, service.name);
  });
});
