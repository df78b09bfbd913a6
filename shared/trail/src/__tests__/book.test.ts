import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { misplacements, TrailBook } from '../book';
import { parseTrailRecord } from '../parse';
import type { ActivityRecord, TrailRecord, WorkflowClosedRecord, WorkflowStartedRecord } from '../record';

let clock = Date.parse('2026-01-01T00:00:00Z');
const tick = () => {
  clock += 10;
  return new Date(clock).toISOString();
};

const base = { version: 1 as const, eventId: 'e-1', routingKey: 'k7x2m9p4q1w8z', workflowId: 'evt-e-1' };

function started(runId: string, instance: string, taskQueue: string, from: string | null = null) {
  return {
    ...base,
    kind: 'workflow.started',
    time: tick(),
    instance,
    runId,
    workflowType: 'processOrder',
    taskQueue,
    worker: `${instance}@host:1`,
    ingestedBy: 'baseline',
    eventTime: '2026-01-01T00:00:00.000Z',
    continuedFromRunId: from,
  } satisfies WorkflowStartedRecord;
}

function closed(
  runId: string,
  instance: string,
  kind: WorkflowClosedRecord['kind'],
  next: string | null = null,
) {
  return {
    ...base,
    kind,
    time: tick(),
    instance,
    runId,
    workflowType: 'processOrder',
    taskQueue: 'orders',
    worker: `${instance}@host:1`,
    durationMs: 5,
    nextTaskQueue: next,
    error: kind === 'workflow.failed' ? { type: 'InvalidOrder', message: 'bad' } : null,
  } satisfies WorkflowClosedRecord;
}

function activity(runId: string, instance: string, attempt = 1, errorType?: string): ActivityRecord {
  return {
    ...base,
    eventId: null,
    kind: errorType ? 'activity.failed' : 'activity.completed',
    time: tick(),
    instance,
    runId,
    workflowType: 'processOrder',
    activityType: 'priceOrder',
    activityId: '2',
    attempt,
    taskQueue: `orders@${instance}`,
    worker: `${instance}@host:2`,
    startedAt: tick(),
    durationMs: 3,
    error: errorType ? { type: errorType, message: 'no' } : null,
  };
}

/** A redirected workflow: first run on the baseline continues as new onto pr-101's queue. */
const redirected: TrailRecord[] = [
  started('run-1', 'baseline', 'orders'),
  closed('run-1', 'baseline', 'workflow.continued-as-new', 'orders@pr-101'),
  started('run-2', 'pr-101', 'orders@pr-101', 'run-1'),
  activity('run-2', 'pr-101'),
  closed('run-2', 'pr-101', 'workflow.completed'),
];

describe('TrailBook', () => {
  it('folds a redirect into two runs that end on the sandbox, with nothing misplaced', () => {
    const book = new TrailBook();
    for (const record of redirected) book.apply(record);
    const trail = book.get('evt-e-1');
    assert.ok(trail);
    assert.equal(trail.status, 'completed');
    assert.equal(trail.endedOn, 'pr-101');
    assert.equal(trail.ingestedBy, 'baseline');
    assert.deepEqual(
      trail.runs.map((r) => [r.runId, r.instance, r.outcome]),
      [
        ['run-1', 'baseline', 'continued-as-new'],
        ['run-2', 'pr-101', 'completed'],
      ],
    );
    assert.equal(trail.runs[1]?.activities[0]?.instance, 'pr-101');
    assert.deepEqual(misplacements(trail, { worker: 'pr-101', ingress: 'baseline' }), []);
    assert.deepEqual(book.ofEvent('e-1'), [trail]);
  });

  it('gives the same trail whatever order the records arrive in, and ignores repeats', () => {
    const book = new TrailBook();
    const shuffled = [
      redirected[3],
      redirected[4],
      redirected[2],
      redirected[0],
      redirected[1],
      redirected[4],
    ];
    for (const record of shuffled) book.apply(record as TrailRecord);
    const trail = book.get('evt-e-1');
    assert.equal(trail?.status, 'completed');
    assert.equal(trail?.completions, 1, 'a repeated completion record is not a second completion');
    assert.deepEqual(
      trail?.runs.map((r) => r.runId),
      ['run-1', 'run-2'],
    );
    assert.equal(trail?.runs[1]?.activities.length, 1);
  });

  it('names every step that ran somewhere other than its owner', () => {
    const book = new TrailBook();
    book.apply(started('run-1', 'baseline', 'orders'));
    book.apply(activity('run-1', 'baseline'));
    // A refused attempt (activity routing check with policy retry) did not run: not a misplacement.
    book.apply(activity('run-1', 'pr-102', 2, 'SandboxRouteMismatch'));
    const trail = book.apply(closed('run-1', 'baseline', 'workflow.completed'));
    assert.ok(trail);
    assert.deepEqual(misplacements(trail, { worker: 'pr-101', ingress: 'pr-101' }), [
      'ingress baseline took it, expected pr-101',
      'workflow run run-1 ran on baseline, expected pr-101',
      'activity priceOrder (attempt 1) ran on baseline, expected pr-101',
    ]);
  });

  it('judges the work by the owners decided for the event, not by the rules of a later moment', () => {
    const book = new TrailBook();
    const decided = (instance: string, action: 'forwarded' | 'started') =>
      ({
        ...base,
        kind: 'ingress.decided',
        time: tick(),
        instance,
        topic: instance === 'baseline' ? 'events' : 'events.sandbox.pr-42',
        partition: 0,
        offset: '1',
        action,
        owner: instance === 'baseline' ? 'pr-42' : instance,
        decided: { ingress: 'pr-42', worker: 'pr-42' },
        detail: null,
      }) satisfies TrailRecord;
    book.apply(decided('baseline', 'forwarded'));
    book.apply(decided('pr-42', 'started'));
    book.apply({ ...started('run-1', 'pr-42', 'orders@pr-42'), ingestedBy: 'pr-42' });
    book.apply(activity('run-1', 'pr-42'));
    const trail = book.apply(closed('run-1', 'pr-42', 'workflow.completed'));
    assert.ok(trail);
    assert.deepEqual(trail.decided, { ingress: 'pr-42', worker: 'pr-42' });
    // pr-42 has been deleted since: by today's rules its key belongs to the baseline, which is no misplacement.
    assert.deepEqual(misplacements(trail, { worker: 'baseline', ingress: 'baseline' }), []);
    // Work no ingress decided is judged by the rules the reader had when it first saw it.
    const undecided = new TrailBook().apply(started('run-2', 'pr-42', 'orders@pr-42'));
    assert.ok(undecided);
    assert.deepEqual(misplacements(undecided, { worker: 'baseline' }), [
      'workflow run run-2 ran on pr-42, expected baseline',
    ]);
  });

  it('counts two completed runs of one event as a duplicate, and forgets the stalest trail beyond its bound', () => {
    const book = new TrailBook({ maxWorkflows: 2 });
    book.apply(started('run-1', 'baseline', 'orders'));
    book.apply(closed('run-1', 'baseline', 'workflow.completed'));
    book.apply(started('run-9', 'baseline', 'orders'));
    book.apply(closed('run-9', 'baseline', 'workflow.completed'));
    assert.equal(book.get('evt-e-1')?.completions, 2);
    book.apply({ ...started('run-3', 'baseline', 'orders'), workflowId: 'wf-2', eventId: 'e-2' });
    book.apply({ ...started('run-4', 'baseline', 'orders'), workflowId: 'wf-3', eventId: 'e-3' });
    assert.equal(book.size, 2);
    assert.equal(book.get('evt-e-1'), undefined);
    assert.deepEqual(book.ofEvent('e-1'), []);
  });

  it('keeps the ingress record when an ingress emits one', () => {
    const book = new TrailBook();
    const trail = book.apply({
      version: 1,
      kind: 'ingress.decided',
      time: tick(),
      eventId: 'e-1',
      routingKey: null,
      instance: 'baseline',
      topic: 'events',
      partition: 2,
      offset: '41',
      action: 'started',
      owner: 'baseline',
      workflowId: 'evt-e-1',
      detail: null,
    });
    assert.equal(trail?.ingress?.offset, '41');
  });
});

describe('parseTrailRecord', () => {
  it('accepts every record the worker writes', () => {
    for (const record of redirected) {
      const parsed = parseTrailRecord(Buffer.from(JSON.stringify(record)));
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
    }
  });

  it('rejects what is not a record, with a reason', () => {
    const bad = [
      ['not json', /not JSON/],
      [JSON.stringify({ ...redirected[0], version: 2 }), /version/],
      [JSON.stringify({ ...redirected[0], kind: 'workflow.exploded' }), /kind/],
      [JSON.stringify({ ...redirected[3], attempt: 0 }), /attempt/],
      [JSON.stringify({ ...redirected[0], workflowId: undefined }), /workflowId/],
      ['x'.repeat(20_000), /too large/],
    ] as const;
    for (const [value, reason] of bad) {
      const parsed = parseTrailRecord(value);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.reason, reason);
    }
  });
});
