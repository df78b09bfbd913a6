import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Application, InvalidApplicationError, parseApplication } from '..';

const declaration = {
  workloads: [
    { name: 'worker', baseline: { name: 'worker' }, taskQueues: ['orders'] },
    { name: 'payments', baseline: { kind: 'ArgoRollout', name: 'payments-v1' }, taskQueues: ['payments'] },
    { name: 'ingress', consumers: [{ topic: 'events', group: 'ingress' }] },
  ],
};

describe('Application', () => {
  const app = parseApplication(declaration, { namespace: 'shop' });

  it('reads a declaration, filling kind, namespace and name from defaults', () => {
    assert.deepEqual(
      app.workloads.map((w) => [w.name, `${w.baseline.kind}/${w.baseline.namespace}/${w.baseline.name}`]),
      [
        ['worker', 'Deployment/shop/worker'],
        ['payments', 'ArgoRollout/shop/payments-v1'],
        ['ingress', 'Deployment/shop/ingress'],
      ],
    );
    assert.equal(app.consumer('events', 'ingress')?.name, 'ingress');
    assert.equal(app.consumer('events', 'other'), undefined);
  });

  it('names the workload behind a shared queue and a sandbox queue, and nothing behind an undeclared one', () => {
    assert.deepEqual(app.queue('payments'), {
      workload: app.workload('payments'),
      sharedQueue: 'payments',
      owner: { kind: 'baseline' },
    });
    assert.deepEqual(app.queue('payments@pr-1')?.owner, { kind: 'sandbox', sandboxName: 'pr-1' });
    assert.equal(app.queue('orders-host-1234'), undefined, 'a worker-specific queue is nobody’s');
    assert.equal(app.queue('payments@'), undefined);
  });

  it('refuses what cannot be routed, naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{}, /workloads: expected a list/],
      [{ workloads: [{ taskQueues: ['q'] }] }, /workloads\[0\]\.name: required/],
      [{ workloads: [{ name: 'Not_A_Label' }] }, /workloads\[0\]\.name: .* not a DNS label/],
      [
        {
          workloads: [
            { name: 'a', taskQueues: ['q'] },
            { name: 'b', taskQueues: ['q'] },
          ],
        },
        /already served by workload "a"/,
      ],
      [{ workloads: [{ name: 'a', taskQueues: ['q@x'] }] }, /not a shared task queue/],
      [{ workloads: [{ name: 'a' }, { name: 'a' }] }, /declared twice/],
      [
        { workloads: [{ name: 'a', consumers: [{ topic: 'e' }] }] },
        /consumers: expected a list of \{ topic, group \}/,
      ],
    ];
    for (const [value, message] of bad) {
      assert.throws(
        () => parseApplication(value, { namespace: 'shop' }),
        (error: unknown) => {
          assert.ok(error instanceof InvalidApplicationError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });

  it('lists every baseline, for one route table of the whole application', () => {
    assert.equal(new Application(app.workloads).baselines().length, 3);
  });
});
