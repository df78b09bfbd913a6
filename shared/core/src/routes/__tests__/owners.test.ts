import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import fc from 'fast-check';
import {
  BASELINE_LABEL,
  BASELINE_OWNER,
  instanceLabel,
  isSandboxName,
  type Owner,
  ownerFromLabel,
  ownerLabel,
  ownerOfTaskQueue,
  sameOwner,
  taskQueueOf,
} from '..';

/** Every name Signadot accepts for a sandbox, with the ones that read like something else made likely. */
const sandboxName = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.constantFrom('baseline', 'Baseline', 'sandbox', 'key', 'a', `Z${'x'.repeat(28)}9`),
  },
  { weight: 6, arbitrary: fc.stringMatching(/^[a-zA-Z]([a-zA-Z0-9-]{0,28}[a-zA-Z0-9])?$/) },
);
const owner: fc.Arbitrary<Owner> = fc.oneof(
  fc.constant(BASELINE_OWNER),
  sandboxName.map((name): Owner => ({ kind: 'sandbox', sandboxName: name })),
);

describe('owner labels', () => {
  it('accept "baseline" as a sandbox name, as Signadot does', () => {
    assert.equal(isSandboxName('baseline'), true);
  });

  it('tell the baseline from a sandbox named "baseline"', () => {
    assert.equal(ownerLabel(BASELINE_OWNER), BASELINE_LABEL);
    assert.equal(ownerLabel({ kind: 'sandbox', sandboxName: 'baseline' }), 'sandbox:baseline');
    assert.equal(instanceLabel(''), 'baseline');
    assert.equal(instanceLabel('baseline'), 'sandbox:baseline');
    assert.deepEqual(ownerFromLabel('sandbox:baseline'), { kind: 'sandbox', sandboxName: 'baseline' });
    assert.deepEqual(ownerFromLabel('baseline'), BASELINE_OWNER);
    // The prefixed form reads for any sandbox; a bare name is written where it cannot be misread.
    assert.deepEqual(ownerFromLabel('sandbox:pr-1'), { kind: 'sandbox', sandboxName: 'pr-1' });
    assert.equal(ownerLabel({ kind: 'sandbox', sandboxName: 'pr-1' }), 'pr-1');
    for (const bad of ['', 'sandbox:', 'sandbox:1x', 'key:abc', 'pr_1', 'a'.repeat(31)]) {
      assert.equal(ownerFromLabel(bad), undefined, bad);
    }
  });

  test('labels are one-to-one and read back (property)', () => {
    fc.assert(
      fc.property(owner, owner, (a, b) => {
        assert.deepEqual(ownerFromLabel(ownerLabel(a)), a);
        assert.equal(ownerLabel(a) === ownerLabel(b), sameOwner(a, b));
      }),
    );
  });

  test('task queues are one-to-one too (property)', () => {
    fc.assert(
      fc.property(owner, owner, (a, b) => {
        const queue = taskQueueOf('orders', a);
        assert.deepEqual(ownerOfTaskQueue('orders', queue), a);
        assert.equal(queue === taskQueueOf('orders', b), sameOwner(a, b));
      }),
    );
  });
});
