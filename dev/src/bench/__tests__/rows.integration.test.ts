/**
 * The benchmark's comparison rows that run their own worker processes (bench-worker.ts) work end to end
 * at a tiny rate: every workflow of the floor and of skip-and-retry completes. They once completed none:
 * `processOrder` had started charging through the payments workload, and nothing polled `payments`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stackEnv } from '@sandbox-routing/testkit';
import { floorRow, type Ladder, skipRetryRow } from '../rows';

const stack = stackEnv();
/** One short step: 6 workflows, half of them under the sandbox's key. */
const ladder: Ladder = { rates: [2], stepMs: 3_000, drainMs: 60_000, log: () => undefined };

describe('benchmark rows with their own workers', () => {
  for (const [name, row] of [
    ['no routing (floor)', floorRow],
    ['skip-and-retry', skipRetryRow],
  ] as const) {
    it(`${name}: every workflow completes, each activity and charge ran`, async () => {
      const report = await row(stack, ladder);
      const [step] = report.steps;
      assert.ok(step, 'one step measured');
      assert.equal(step.completed, step.sent, `completed ${step.completed} of ${step.sent}: ${step.verdict}`);
      assert.equal(step.lost, 0);
      // reserve, price, charge (payments), confirm; skip-and-retry may retry some, never fewer.
      assert.ok(
        (step.activityAttemptsPerEvent ?? 0) >= 4,
        `${step.activityAttemptsPerEvent} activity attempts per event`,
      );
    });
  }
});
