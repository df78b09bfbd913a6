import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrailRecord } from '@sandbox-routing/trail';
import { TrailHub } from '../trail-hub';

const KEY = 'kpr42routing';

/** Rules that change under the hub: what `expectedFor` answers now. */
function rules(initial: Record<string, string>) {
  let current = initial;
  return {
    set(next: Record<string, string>) {
      current = next;
    },
    expectedFor(routingKey: string | null) {
      const owner = (routingKey && current[routingKey]) || 'baseline';
      return { worker: owner, ingress: owner };
    },
  };
}

function hub(expectedFor: (key: string | null) => { worker: string; ingress: string }): TrailHub {
  return new TrailHub({ expectedFor, temporalUrl: (id) => `http://ui/${id}` });
}

const base = { version: 1 as const, eventId: 'e-1', routingKey: KEY, workflowId: 'evt-e-1' };

function decided(time: string, traceId?: string): TrailRecord {
  return {
    ...(traceId ? { traceId } : {}),
    ...base,
    kind: 'ingress.decided',
    time,
    instance: 'baseline',
    topic: 'events',
    partition: 0,
    offset: '3',
    action: 'forwarded',
    owner: 'pr-42',
    decided: { ingress: 'pr-42', worker: 'pr-42' },
    detail: 'events.ingress.sandbox.pr-42',
  };
}

function started(time: string, instance = 'pr-42'): TrailRecord {
  return {
    ...base,
    kind: 'workflow.started',
    time,
    instance,
    runId: 'run-1',
    workflowType: 'processOrder',
    taskQueue: instance === 'baseline' ? 'orders' : `orders@${instance}`,
    worker: `${instance}@host`,
    ingestedBy: instance,
    // Whoever wrote the event chose its time: a fixed one, as the README's hand-sent examples have.
    eventTime: '2026-01-01T00:00:00Z',
    continuedFromRunId: null,
  };
}

function completed(time: string, instance = 'pr-42'): TrailRecord {
  return {
    ...base,
    kind: 'workflow.completed',
    time,
    instance,
    runId: 'run-1',
    workflowType: 'processOrder',
    taskQueue: instance === 'baseline' ? 'orders' : `orders@${instance}`,
    worker: `${instance}@host`,
    durationMs: 300,
    nextTaskQueue: null,
    error: null,
  };
}

describe('TrailHub', () => {
  it('judges an event by the owners decided for it, not by the rules after its sandbox was deleted', () => {
    const routes = rules({ [KEY]: 'pr-42' });
    const trail = hub((key) => routes.expectedFor(key));
    trail.onRecord(decided('2026-12-05T10:00:00.000Z'));
    trail.onRecord(started('2026-12-05T10:00:00.100Z'));
    routes.set({}); // pr-42 deleted: by today's rules its key is the baseline's
    trail.onRecord(completed('2026-12-05T10:00:00.400Z'));
    const [row] = trail.rows();
    assert.deepEqual([row?.expected.worker, row?.expectedBy, row?.misplaced], ['pr-42', 'decision', []]);
    assert.equal(trail.counters()['pr-42']?.misplaced, 0);
  });

  it('links a row to the trace its ingress decision names, when a trace viewer is set', () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const withViewer = new TrailHub({
      expectedFor: () => ({ worker: 'pr-42', ingress: 'pr-42' }),
      temporalUrl: (id) => `http://ui/${id}`,
      traceUrl: (id) => `http://jaeger/trace/${id}`,
    });
    withViewer.onRecord(started('2026-12-05T10:00:00.100Z'));
    assert.equal(withViewer.rows()[0]?.traceUrl, null, 'no decision record yet: no trace known');
    withViewer.onRecord(decided('2026-12-05T10:00:00.000Z', traceId));
    assert.equal(withViewer.rows()[0]?.traceUrl, `http://jaeger/trace/${traceId}`);

    const withoutViewer = hub(() => ({ worker: 'pr-42', ingress: 'pr-42' }));
    withoutViewer.onRecord(decided('2026-12-05T10:00:00.000Z', traceId));
    assert.equal(withoutViewer.rows()[0]?.traceUrl, null);
  });

  it('judges work no ingress decided by the rules when it first saw it, not by later ones', () => {
    const routes = rules({ [KEY]: 'pr-42' });
    const trail = hub((key) => routes.expectedFor(key));
    trail.onRecord(started('2026-12-05T10:00:00.100Z'));
    routes.set({});
    trail.onRecord(completed('2026-12-05T10:00:00.400Z'));
    const [row] = trail.rows();
    assert.deepEqual(
      [row?.expected.worker, row?.expectedBy, row?.misplaced],
      ['pr-42', 'rules-when-seen', []],
    );
  });

  it("times someone else's event from its earliest trail record, never from the event's own time field", () => {
    const trail = hub(() => ({ worker: 'pr-42', ingress: 'pr-42' }));
    // Records arrive in any order: the earliest one is the start.
    trail.onRecord(started('2026-12-05T10:00:00.100Z'));
    trail.onRecord(decided('2026-12-05T10:00:00.000Z'));
    trail.onRecord(completed('2026-12-05T10:00:01.250Z'));
    const [row] = trail.rows();
    assert.equal(row?.timedFrom, 'first-record');
    assert.equal(row?.firstRecordAfterMs, 0);
    assert.equal(row?.completedAfterMs, 1250);
  });

  it('counts every event it shows, and says how many of them this console sent', () => {
    const trail = hub(() => ({ worker: 'baseline', ingress: 'baseline' }));
    trail.noteSent([
      {
        eventId: 'mine',
        workflowId: 'evt-mine',
        via: 'kafka',
        routingKey: null,
        ownerLabel: 'baseline',
        expected: { worker: 'baseline', ingress: 'baseline' },
        sentAt: new Date().toISOString(),
        published: null,
        payloadPreview: '{}',
      },
    ]);
    trail.onRecord({ ...completed('2026-12-05T10:00:01.000Z', 'baseline'), routingKey: null });
    assert.deepEqual(trail.counters().baseline, {
      events: 2,
      sent: 1,
      running: 0,
      completed: 1,
      failed: 0,
      misplaced: 0,
    });
  });
});
