import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  packRedirect,
  REDIRECT_MANIFEST_HEADER,
  ROUTING_DECISION_HEADER,
  readRoutingDecision,
  routingKeyFromTemporalHeaders,
} from '@sandbox-routing/shared';
import { defaultPayloadConverter } from '@temporalio/client';
import {
  formatTeardownReport,
  type PinnedWorkflow,
  restartHeaders,
  sandboxWorkflowsQuery,
  startArguments,
  type TeardownReport,
} from '../sandbox-teardown';
import { runTeardown } from './worker-process';

const WORKFLOW: PinnedWorkflow = {
  workflowId: 'evt-1',
  runId: 'run-1',
  type: 'awaitApproval',
  taskQueue: 'orders@pr-42',
  startTime: '2026-01-01T00:00:00.000Z',
  routingKey: 'k7x2m9p4q1w8z',
  parentWorkflowId: null,
};

describe('sandbox teardown', () => {
  it("queries the open workflows on the sandbox's task queue", () => {
    assert.equal(
      sandboxWorkflowsQuery('orders', 'pr-42'),
      "TaskQueue = 'orders@pr-42' AND ExecutionStatus = 'Running'",
    );
  });

  it('refuses names that could change the query', () => {
    for (const name of ["pr' OR TaskQueue != 'x", 'pr 42', '42pr', '', 'a'.repeat(31)]) {
      assert.throws(() => sandboxWorkflowsQuery('orders', name), TypeError, name);
    }
    assert.throws(() => sandboxWorkflowsQuery("orders' OR '1", 'pr-42'), TypeError);
  });

  it('restarts with the routing key kept, other headers kept, and the decision set to the shared queue', () => {
    const tracerData = defaultPayloadConverter.toPayload({ traceparent: '00-1-2-01' });
    const original = {
      'sd-routing-key': defaultPayloadConverter.toPayload('k7x2m9p4q1w8z'),
      [ROUTING_DECISION_HEADER]: defaultPayloadConverter.toPayload('orders@pr-42'),
      '_tracer-data': tracerData,
    };
    const headers = restartHeaders(original, 'orders');
    assert.equal(routingKeyFromTemporalHeaders(headers)?.key, 'k7x2m9p4q1w8z');
    assert.equal(readRoutingDecision(headers), 'orders');
    assert.equal(headers['_tracer-data'], tracerData);
    assert.equal(readRoutingDecision(original), 'orders@pr-42', 'the original headers are not modified');
  });

  it('moves a key found only in _tracer-data baggage into the routing-key header', () => {
    const headers = restartHeaders(
      { '_tracer-data': defaultPayloadConverter.toPayload({ baggage: 'sd-routing-key=abc123' }) },
      'orders',
    );
    assert.deepEqual(routingKeyFromTemporalHeaders(headers), { key: 'abc123', carrier: 'temporal-header' });
    assert.equal(readRoutingDecision(restartHeaders({}, 'orders')), 'orders');
  });

  it('restarts a redirected run with its own arguments, not the messages the redirect forwarded', () => {
    const event = defaultPayloadConverter.toPayload({ id: 'e-1' });
    const approval = defaultPayloadConverter.toPayload({ approvedBy: 'ana' });
    const packed = packRedirect([event], [{ signalName: 'approve', input: [approval], headers: {} }], false);
    assert.deepEqual(startArguments(packed.headers, packed.input), [event]);
    assert.deepEqual(
      startArguments({}, [event, approval]),
      [event, approval],
      'no manifest: the whole input',
    );
    assert.equal(restartHeaders(packed.headers, 'orders')[REDIRECT_MANIFEST_HEADER], undefined);
  });

  it('prints one line per workflow with what happened to it', () => {
    const report: TeardownReport = {
      sandbox: 'pr-42',
      taskQueue: 'orders@pr-42',
      sharedQueue: 'orders',
      action: 'restart-on-baseline',
      dryRun: false,
      failed: true,
      outcomes: [
        { workflow: WORKFLOW, status: 'restarted', newRunId: 'run-2', detail: 'restarted on orders' },
        {
          workflow: { ...WORKFLOW, workflowId: 'evt-2', routingKey: null },
          status: 'failed',
          detail: 'boom',
        },
      ],
    };
    assert.equal(
      formatTeardownReport(report),
      [
        'sandbox pr-42: 2 open workflow(s) on task queue orders@pr-42; action: restart-on-baseline',
        '  evt-1  awaitApproval  started 2026-01-01T00:00:00.000Z key=k7x2m9p4q1w8z  restarted (restarted on orders, run run-2)',
        '  evt-2  awaitApproval  started 2026-01-01T00:00:00.000Z  failed (boom)',
      ].join('\n'),
    );
  });

  it('the command explains itself with --help and rejects a bad sandbox name before connecting', async () => {
    const help = await runTeardown(['--help'], {});
    assert.equal(help.code, 0);
    for (const text of [
      '--sandbox <name>',
      '--action <action>',
      'restart-on-baseline',
      '--dry-run',
      '--json',
      '--concurrency <n>',
      'Examples:',
    ]) {
      assert.ok(help.stdout.includes(text), `--help mentions ${text}`);
    }
    const bad = await runTeardown(['--sandbox', "x' OR '1"], {});
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /sandbox name/);
    const badAction = await runTeardown(['--sandbox', 'pr-42', '--action', 'delete'], {});
    assert.notEqual(badAction.code, 0);
    assert.match(badAction.stderr, /Allowed choices are list, terminate, restart-on-baseline/);
    for (const bad of ['0', '-1', '2.5', 'many']) {
      const badConcurrency = await runTeardown(['--sandbox', 'pr-42', '--concurrency', bad], {});
      assert.notEqual(badConcurrency.code, 0, bad);
      assert.match(badConcurrency.stderr, /--concurrency <n>.*expected a whole number, 1 or more/, bad);
    }
  });

  it('exits 78 on invalid Temporal settings', async () => {
    const run = await runTeardown(['--sandbox', 'pr-42'], { TEMPORAL_ADDRESS: 'nope' });
    assert.equal(run.code, 78);
    assert.match(run.stderr, /TEMPORAL_ADDRESS/);
  });
});
