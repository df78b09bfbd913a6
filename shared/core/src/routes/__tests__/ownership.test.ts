import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  instanceTaskQueue,
  ownerOfTaskQueue,
  sandboxTaskQueue,
  sharedQueueOf,
  taskQueueOf,
} from '../ownership';

describe('task queue naming', () => {
  it('derives a sandbox queue from the shared queue and back', () => {
    assert.equal(sandboxTaskQueue('orders', 'pr-42'), 'orders@pr-42');
    assert.equal(taskQueueOf('orders', { kind: 'baseline' }), 'orders');
    assert.equal(taskQueueOf('orders', { kind: 'sandbox', sandboxName: 'pr-42' }), 'orders@pr-42');
    assert.deepEqual(ownerOfTaskQueue('orders', 'orders@pr-42'), { kind: 'sandbox', sandboxName: 'pr-42' });
    assert.deepEqual(ownerOfTaskQueue('orders', 'orders'), { kind: 'baseline' });
    assert.equal(ownerOfTaskQueue('orders', 'payments@pr-42'), undefined);
    assert.equal(ownerOfTaskQueue('orders', 'orders@'), undefined);
    assert.equal(sharedQueueOf('orders@pr-42'), 'orders');
    assert.equal(sharedQueueOf('orders'), 'orders');
  });

  it('gives each instance its queue', () => {
    const baseline = { kind: 'Deployment', namespace: 'ns', name: 'worker' };
    assert.equal(instanceTaskQueue('orders', { baseline, sandboxName: '' }), 'orders');
    assert.equal(instanceTaskQueue('orders', { baseline, sandboxName: 'pr-42' }), 'orders@pr-42');
  });
});
