import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Application } from '@sandbox-routing/core';
import { ConfigError, loadApplication } from '..';

const own = {
  name: 'worker',
  baseline: { kind: 'Deployment', namespace: 'shop', name: 'worker' },
  taskQueues: ['orders'],
  consumers: [],
};

function file(name: string, text: string): string {
  const at = path.join(mkdtempSync(path.join(tmpdir(), 'app-')), name);
  writeFileSync(at, text);
  return at;
}

describe('loadApplication', () => {
  it('reads YAML and JSON declarations', () => {
    const yaml = file(
      'app.yaml',
      'workloads:\n  - name: worker\n    taskQueues: [orders]\n  - name: payments\n    taskQueues: [payments]\n',
    );
    const json = file(
      'app.json',
      JSON.stringify({ workloads: [{ name: 'worker', taskQueues: ['orders'] }] }),
    );
    assert.equal(loadApplication({ file: yaml }, own).queue('payments')?.workload.name, 'payments');
    assert.equal(loadApplication({ file: json }, own).workloads.length, 1);
  });

  it('without a file: the built-in declaration, else the service alone', () => {
    const builtIn = new Application([
      own,
      { ...own, name: 'payments', baseline: { ...own.baseline, name: 'payments' }, taskQueues: ['payments'] },
    ]);
    assert.equal(loadApplication({ file: '' }, own, builtIn), builtIn);
    assert.deepEqual(loadApplication({ file: '' }, own).workloads, [own]);
  });

  it('stops with the setting named when the declaration cannot serve this service', () => {
    const cases: [string, RegExp][] = [
      [path.join(tmpdir(), 'no-such-application.yaml'), /file not found/],
      [file('bad.yaml', 'workloads: [ {'), /is not valid YAML/],
      [
        file('other.yaml', 'workloads:\n  - name: payments\n    taskQueues: [payments]\n'),
        /declares no workload with baseline Deployment\/shop\/worker/,
      ],
      [
        file('queue.yaml', 'workloads:\n  - name: worker\n    taskQueues: [other]\n'),
        /does not list task queue "orders"/,
      ],
    ];
    for (const [at, message] of cases) {
      assert.throws(
        () => loadApplication({ file: at }, own),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, /application\.file \(env ROUTING_APPLICATION_FILE\)/);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });
});
