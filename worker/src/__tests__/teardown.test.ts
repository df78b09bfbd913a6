import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMAND_NAMES } from '@sandbox-routing/service-kit';
import {
  packRedirect,
  REDIRECT_MANIFEST_HEADER,
  ROUTING_DECISION_HEADER,
  readRoutingDecision,
  routingKeyFromTemporalHeaders,
} from '@sandbox-routing/temporal';
import { defaultPayloadConverter, type WorkflowExecutionDescription } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import {
  formatTeardownReport,
  type PinnedWorkflow,
  restartHeaders,
  sandboxWorkflowsQuery,
  startArguments,
  type TeardownReport,
} from '../sandbox-teardown';
import { stepsThatRan, workflowWait } from '../steps-that-ran';
import { runTeardown } from './worker-process';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
/** Event `id` happened `id` seconds after T0. */
const at = (id: number) => new Date(T0 + id * 1000).toISOString();

/** A history event as `temporal workflow show --output json` writes it. */
function event(id: number, type: string, attributes: Record<string, unknown> = {}) {
  const key = `${type[0]?.toLowerCase()}${type.slice(1)}EventAttributes`;
  return { eventId: String(id), eventTime: at(id), eventType: type, [key]: attributes };
}

function events(...list: ReturnType<typeof event>[]) {
  return historyFromJSON({ events: list }).events ?? [];
}

const scheduled = (id: number, type: string) =>
  event(id, 'ActivityTaskScheduled', { activityId: String(id), activityType: { name: type } });

type PendingActivity = NonNullable<WorkflowExecutionDescription['raw']['pendingActivities']>[number];

const WORKFLOW: PinnedWorkflow = {
  workflowId: 'evt-1',
  runId: 'run-1',
  type: 'awaitApproval',
  taskQueue: 'orders@pr-42',
  startTime: '2026-01-01T00:00:00.000Z',
  routingKey: 'k7x2m9p4q1w8z',
  parentWorkflowId: null,
  alreadyRan: [],
  awaits: 'message-or-timer',
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

  it('reads the activities that completed, with their type and end time, in the order they were scheduled', () => {
    const history = events(
      event(1, 'WorkflowExecutionStarted'),
      scheduled(5, 'reserveInventory'),
      event(6, 'ActivityTaskStarted', { scheduledEventId: '5', attempt: 1 }),
      event(7, 'ActivityTaskCompleted', { scheduledEventId: '5', startedEventId: '6' }),
      scheduled(11, 'priceOrder'),
      scheduled(12, 'sendConfirmation'),
      event(14, 'ActivityTaskCompleted', { scheduledEventId: '12' }),
      event(15, 'ActivityTaskCompleted', { scheduledEventId: '11' }),
      event(16, 'WorkflowTaskScheduled'),
    );
    assert.deepEqual(stepsThatRan(history), [
      { kind: 'activity', type: 'reserveInventory', id: '5', outcome: 'completed', at: at(7) },
      { kind: 'activity', type: 'priceOrder', id: '11', outcome: 'completed', at: at(15) },
      { kind: 'activity', type: 'sendConfirmation', id: '12', outcome: 'completed', at: at(14) },
    ]);
  });

  it('counts what may have run: failed and timed-out activities, started attempts; not what never started', () => {
    const history = events(
      event(1, 'WorkflowExecutionStarted'),
      scheduled(5, 'charge'),
      event(6, 'ActivityTaskFailed', { scheduledEventId: '5', startedEventId: '0' }),
      scheduled(7, 'ship'),
      event(8, 'ActivityTaskTimedOut', { scheduledEventId: '7' }),
      scheduled(9, 'notify'),
      event(10, 'ActivityTaskCanceled', { scheduledEventId: '9', startedEventId: '0' }),
      scheduled(11, 'refund'),
      event(12, 'ActivityTaskCanceled', { scheduledEventId: '11', startedEventId: '13' }),
      scheduled(20, 'running'),
      scheduled(21, 'retrying'),
      scheduled(22, 'queued'),
    );
    const pending = [
      { activityId: '20', attempt: 1, lastStartedTime: { seconds: T0 / 1000 + 30 } },
      { activityId: '21', attempt: 2, lastAttemptCompleteTime: { seconds: T0 / 1000 + 31 } },
      { activityId: '22', attempt: 1 },
    ] as PendingActivity[];
    assert.deepEqual(
      stepsThatRan(history, pending).map((s) => [s.type, s.outcome, s.at]),
      [
        ['charge', 'failed', at(6)],
        ['ship', 'failed', at(8)],
        ['refund', 'failed', at(12)],
        ['running', 'running', at(30)],
        ['retrying', 'running', at(31)],
      ],
    );
  });

  it('reads local activities from their markers and child workflows that started', () => {
    const data = defaultPayloadConverter.toPayload({
      seq: 1,
      activity_id: '1',
      activity_type: 'lookUpPrice',
    });
    const history = events(
      event(1, 'WorkflowExecutionStarted'),
      event(5, 'MarkerRecorded', {
        markerName: 'core_local_activity',
        details: {
          data: {
            payloads: [
              {
                metadata: { encoding: Buffer.from('json/plain').toString('base64') },
                data: Buffer.from(data.data ?? []).toString('base64'),
              },
            ],
          },
        },
      }),
      event(6, 'MarkerRecorded', { markerName: 'core_patch' }),
      event(7, 'StartChildWorkflowExecutionInitiated', {
        workflowId: 'child-1',
        workflowType: { name: 'pack' },
      }),
      event(8, 'ChildWorkflowExecutionStarted', { initiatedEventId: '7' }),
      event(9, 'StartChildWorkflowExecutionInitiated', {
        workflowId: 'child-2',
        workflowType: { name: 'pack' },
      }),
      event(10, 'ChildWorkflowExecutionStarted', { initiatedEventId: '9' }),
      event(11, 'ChildWorkflowExecutionCompleted', { initiatedEventId: '9' }),
      event(12, 'StartChildWorkflowExecutionInitiated', {
        workflowId: 'child-3',
        workflowType: { name: 'pack' },
      }),
      event(13, 'StartChildWorkflowExecutionFailed', { initiatedEventId: '12' }),
    );
    assert.deepEqual(stepsThatRan(history), [
      { kind: 'local-activity', type: 'lookUpPrice', id: '1', outcome: 'completed', at: at(5) },
      { kind: 'child-workflow', type: 'pack', id: 'child-1', outcome: 'running', at: at(8) },
      { kind: 'child-workflow', type: 'pack', id: 'child-2', outcome: 'completed', at: at(11) },
    ]);
  });

  it('says what an open workflow waits for', () => {
    const raw = (fields: object) => fields as WorkflowExecutionDescription['raw'];
    assert.equal(workflowWait(raw({ pendingWorkflowTask: {}, pendingActivities: [{}] })), 'workflow-task');
    assert.equal(workflowWait(raw({ pendingActivities: [{}] })), 'activity');
    assert.equal(workflowWait(raw({ pendingActivities: [], pendingChildren: [{}] })), 'child-workflow');
    assert.equal(workflowWait(raw({ pendingActivities: [], pendingChildren: [] })), 'message-or-timer');
  });

  it('prints a line per workflow with what happened to it, what ran of it and what it waits for', () => {
    const report: TeardownReport = {
      sandbox: 'pr-42',
      taskQueue: 'orders@pr-42',
      sharedQueue: 'orders',
      action: 'restart-on-baseline',
      ifActivitiesRan: 'skip',
      dryRun: false,
      failed: true,
      needsDecision: 1,
      outcomes: [
        { workflow: WORKFLOW, status: 'restarted', newRunId: 'run-2', detail: 'restarted on orders' },
        {
          workflow: { ...WORKFLOW, workflowId: 'evt-2', routingKey: null },
          status: 'failed',
          detail: 'boom',
        },
        {
          workflow: {
            ...WORKFLOW,
            workflowId: 'evt-3',
            type: 'processOrder',
            awaits: 'workflow-task',
            alreadyRan: [
              { kind: 'activity', type: 'reserveInventory', id: '5', outcome: 'completed', at: at(7) },
              { kind: 'activity', type: 'sendConfirmation', id: '11', outcome: 'running', at: at(12) },
            ],
          },
          status: 'needs-decision',
          detail: '2 step(s) already ran; a restart would run them again',
        },
      ],
    };
    const text = formatTeardownReport(report);
    assert.deepEqual(text.split('\n').slice(0, 9), [
      'sandbox pr-42: 3 open workflow(s) on task queue orders@pr-42; action: restart-on-baseline (if activities ran: skip)',
      '  evt-1  awaitApproval  started 2026-01-01T00:00:00.000Z key=k7x2m9p4q1w8z  restarted (restarted on orders, run run-2)',
      '      waits for a signal, an update or a timer',
      '  evt-2  awaitApproval  started 2026-01-01T00:00:00.000Z  failed (boom)',
      '      waits for a signal, an update or a timer',
      '  evt-3  processOrder  started 2026-01-01T00:00:00.000Z key=k7x2m9p4q1w8z  needs-decision (2 step(s) already ran; a restart would run them again)',
      '      ran: activity reserveInventory completed 2026-01-01T00:00:07.000Z',
      '      ran: activity sendConfirmation running 2026-01-01T00:00:12.000Z',
      '      waits for a worker to run its code (every step it scheduled has ended)',
    ]);
    assert.match(text, /1 workflow\(s\) left open: steps of theirs already ran/);
    assert.match(text, /--action restart-on-baseline --if-activities-ran restart +restart anyway/);
    assert.match(text, /--action terminate +end it/);
    assert.doesNotMatch(formatTeardownReport({ ...report, needsDecision: 0 }), /left open/);
  });

  it('the command explains itself with --help: its real name, the risk of a restart, defaults written one way', async () => {
    const help = await runTeardown(['--help'], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, new RegExp(`^Usage: ${COMMAND_NAMES.workerTeardown} \\[options\\]\n`));
    for (const text of [
      '--sandbox <name>',
      '--action <action>',
      'restart-on-baseline',
      '--if-activities-ran <choice>',
      'default: "skip"',
      'runs again',
      '--dry-run',
      '--json',
      '--concurrency <n>',
      '(default: 8)',
      'Examples:',
      `$ ${COMMAND_NAMES.workerTeardown} --sandbox pr-42`,
      'Exit codes:',
    ]) {
      assert.ok(help.stdout.includes(text), `--help mentions ${text}`);
    }
    assert.doesNotMatch(help.stdout, /\(default [^:]/, "defaults are written as commander's (default: …)");
  });

  it('usage errors exit 2 with the reason, before connecting', async () => {
    const cases: [string[], RegExp][] = [
      [[], /required option '--sandbox <name>' not specified/],
      [['--sandbox', "x' OR '1"], /sandbox name/],
      [
        ['--sandbox', 'pr-42', '--action', 'delete'],
        /Allowed choices are list, terminate, restart-on-baseline/,
      ],
      [
        ['--sandbox', 'pr-42', '--if-activities-ran', 'maybe'],
        /Allowed choices are skip, restart, terminate/,
      ],
      [
        ['--sandbox', 'pr-42', '--if-activities-ran', 'restart'],
        /goes with --action restart-on-baseline, not list/,
      ],
      [
        ['--sandbox', 'pr-42', '--action', 'terminate', '--if-activities-ran', 'skip'],
        /goes with --action restart-on-baseline, not terminate/,
      ],
      [['--sandbox', 'pr-42', '--bogus'], /unknown option '--bogus'/],
      ...['0', '2.5'].map((bad): [string[], RegExp] => [
        ['--sandbox', 'pr-42', '--concurrency', bad],
        /--concurrency <n>.*expected a whole number, 1 or more/,
      ]),
    ];
    // An unreachable Temporal: a command line that got past parsing would fail with 1, not 2.
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    for (const [args, message] of cases) {
      const run = await runTeardown(args, env);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(' '));
    }
  });

  it('exits 78 on invalid Temporal settings', async () => {
    const run = await runTeardown(['--sandbox', 'pr-42'], { TEMPORAL_ADDRESS: 'nope' });
    assert.equal(run.code, 78);
    assert.match(run.stderr, /TEMPORAL_ADDRESS/);
  });
});
