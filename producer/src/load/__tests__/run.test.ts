import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context } from '@opentelemetry/api';
import { routingKeyFromContext } from '@sandbox-routing/core';
import { type PipelineEvent, workflowIdOfEvent } from '@sandbox-routing/sample';
import type { TrailRecord } from '@sandbox-routing/trail';
import { useTelemetry } from '../../__tests__/telemetry';
import { sampleOrder } from '../../payload';
import type { EventSender } from '../../publish';
import { reportHtml } from '../chart';
import type { Backlog, LoadInspector, WorkflowState } from '../inspect';
import { decodeLatencies } from '../latency';
import type { LoadOwner } from '../owners';
import { formatReport } from '../report';
import { type LoadRunOptions, runLoad } from '../run';
import { RateSchedule } from '../schedule';
import { parseThreshold } from '../thresholds';

const OWNERS: LoadOwner[] = [
  { name: 'baseline', routingKey: null, expected: { worker: 'baseline', ingress: 'baseline' } },
  { name: 'pr-<101>', routingKey: 'k101', expected: { worker: 'pr-<101>', ingress: 'baseline' } },
];

type Fault = 'unfinished' | 'misrouted' | 'duplicate' | 'failed' | 'dead-lettered' | undefined;

/**
 * A fake pipeline: the sender acknowledges every batch and, like ingress and worker would, emits the
 * trail records of each event `workMs` later, on the instance its routing key names, unless `fault`
 * says otherwise for that event.
 */
function fakePipeline(options: { workMs: number; fault?: (eventId: string, seq: number) => Fault }) {
  let emit: (record: TrailRecord) => void = () => undefined;
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  const records = (
    event: PipelineEvent,
    key: string | null,
    instance: string,
    runId: string,
    completed: boolean,
  ) => {
    const common = {
      version: 1 as const,
      eventId: event.id,
      routingKey: key,
      instance,
      workflowId: workflowIdOfEvent(event.id),
      runId,
      workflowType: 'processOrder',
      taskQueue: instance === 'baseline' ? 'orders' : `orders@${instance}`,
      worker: `${instance}@host:1`,
    };
    const at = new Date().toISOString();
    const out: TrailRecord[] = [
      {
        version: 1,
        kind: 'ingress.decided',
        time: at,
        eventId: event.id,
        routingKey: key,
        instance: 'baseline',
        topic: 'events',
        partition: 0,
        offset: '0',
        action: 'started',
        owner: instance,
        workflowId: common.workflowId,
        detail: null,
      },
      {
        ...common,
        kind: 'workflow.started',
        time: at,
        ingestedBy: 'baseline',
        eventTime: event.time,
        continuedFromRunId: null,
      },
      {
        ...common,
        kind: 'activity.completed',
        time: at,
        workflowType: 'processOrder',
        activityType: 'reserveInventory',
        activityId: '1',
        attempt: 1,
        startedAt: at,
        durationMs: 1,
        error: null,
      },
    ];
    out.push({
      ...common,
      kind: completed ? 'workflow.completed' : 'workflow.failed',
      time: new Date(Date.now() + 1).toISOString(),
      durationMs: options.workMs,
      nextTaskQueue: null,
      error: completed ? null : { type: 'InvalidOrder', message: 'bad' },
    });
    return out;
  };
  const sender: EventSender & { sends: number } = {
    sends: 0,
    async send(_topic, messages) {
      this.sends++;
      const key = routingKeyFromContext(context.active()) ?? null;
      const owner = key === null ? 'baseline' : 'pr-<101>';
      for (const message of messages) {
        const event = JSON.parse(String(message.value)) as PipelineEvent;
        const seq = Number(event.id.split('-').at(-1));
        const fault = options.fault?.(event.id, seq);
        if (fault === 'unfinished') continue;
        if (fault === 'dead-lettered') {
          timers.push(
            setTimeout(() => {
              emit({
                version: 1,
                kind: 'ingress.decided',
                time: new Date().toISOString(),
                eventId: event.id,
                routingKey: key,
                instance: 'baseline',
                topic: 'events',
                partition: 0,
                offset: '0',
                action: 'dead-lettered',
                owner: null,
                workflowId: null,
                detail: 'start-rejected',
              });
            }, options.workMs),
          );
          continue;
        }
        const ranOn = fault === 'misrouted' ? 'baseline' : owner;
        timers.push(
          setTimeout(() => {
            if (stopped) return;
            for (const record of records(event, key, ranOn, `run-${seq}`, fault !== 'failed')) emit(record);
            if (fault === 'duplicate') {
              for (const record of records(event, key, ranOn, `run-${seq}-again`, true)) emit(record);
            }
            // A record of some other work on the same topic: ignored.
            emit({
              ...records(event, key, ranOn, 'x', true)[0],
              eventId: 'other-1',
              workflowId: 'evt-other-1',
            } as TrailRecord);
          }, options.workMs),
        );
      }
      return messages.map((_, i) => ({ partition: 0, offset: String(i) }));
    },
    disconnect: async () => undefined,
  };
  return {
    sender,
    subscribe: async (onRecord: (record: TrailRecord) => void) => {
      emit = onRecord;
      return {
        stop: async () => {
          stopped = true;
          for (const timer of timers) clearTimeout(timer);
        },
      };
    },
  };
}

/** An inspector that answers from memory: nothing waiting, unless told; workflow states by id. */
function fakeInspector(options: { backlog?: Backlog; states?: (workflowId: string) => WorkflowState }) {
  const inspector: LoadInspector = {
    backlog: async () => options.backlog ?? { ingress: null, queues: null, errors: [] },
    workflowStates: async (ids) =>
      new Map(ids.map((id) => [id, options.states ? options.states(id) : 'not-found'] as const)),
    close: async () => undefined,
  };
  return inspector;
}

/** 50 events/s for 0.2 s per owner through the fake pipeline; `overrides` change any option. */
function run(
  pipeline: ReturnType<typeof fakePipeline>,
  overrides: Partial<Omit<LoadRunOptions, 'thresholds'>> & { thresholds?: string[] } = {},
) {
  return runLoad({
    owners: OWNERS,
    schedule: new RateSchedule([{ from: 50, to: 50, durationMs: 200 }]),
    topic: 'events',
    eventType: 'order.created',
    payload: sampleOrder,
    idPrefix: 'load',
    drainTimeoutMs: 2000,
    settleMs: 50,
    sender: pipeline.sender,
    subscribe: pipeline.subscribe,
    ...overrides,
    thresholds: (overrides.thresholds ?? []).map(parseThreshold),
  });
}

describe('runLoad', () => {
  // The real context manager: the routing key travels in the active context to the sender.
  useTelemetry();

  it('sends each owner its events with its key, and reports them all completed where they belong', async () => {
    const pipeline = fakePipeline({ workMs: 30 });
    const progress: number[] = [];
    const report = await run(pipeline, {
      thresholds: ['p99<10s', 'unfinished==0', 'completed{owner:pr-<101>}==10'],
      onProgress: (p) => progress.push(p.overall.sent),
      progressIntervalMs: 10,
    });
    assert.equal(report.passed, true, report.failures.join('; '));
    assert.deepEqual(report.failures, []);
    assert.equal(report.plan.eventsPerOwner, 10);
    assert.match(report.idPrefix, /^load-[0-9a-f]{8}-$/);
    for (const owner of report.owners) {
      assert.deepEqual(
        [
          owner.sent,
          owner.decided,
          owner.started,
          owner.completed,
          owner.misrouted,
          owner.unfinished,
          owner.duplicates,
          owner.failed,
          owner.deadLettered,
        ],
        [10, 10, 10, 10, 0, 0, 0, 0, 0],
        owner.name,
      );
      assert.equal(owner.latencyMs.count, 10);
      assert.ok(
        (owner.latencyMs.min ?? 0) >= 25,
        `latency covers the work: ${JSON.stringify(owner.latencyMs)}`,
      );
      assert.equal(decodeLatencies(owner.histogram).count, 10, 'the encoded histogram holds every latency');
      assert.equal(owner.stagesMs.publishToStarted.count, 10);
      assert.equal(
        owner.timeline.reduce((sum, b) => sum + b.sent, 0),
        10,
      );
    }
    assert.equal(report.overall.completed, 20);
    assert.deepEqual(
      report.thresholds.map((t) => t.ok),
      [true, true, true],
    );
    assert.ok(progress.length > 0, 'progress was reported');
    assert.match(formatReport(report), /^passed$/m);
  });

  it('counts misrouted, unfinished, failed, dead-lettered and duplicated events per owner, and fails the run for each', async () => {
    const pipeline = fakePipeline({
      workMs: 20,
      fault: (id, seq) => {
        const sandbox = id.includes('-1-'); // owner index 1: the sandbox
        if (!sandbox) return seq === 2 ? 'unfinished' : seq === 3 ? 'duplicate' : undefined;
        return seq === 4 ? 'misrouted' : seq === 5 ? 'failed' : seq === 6 ? 'dead-lettered' : undefined;
      },
    });
    const report = await run(pipeline, { drainTimeoutMs: 500, thresholds: ['p99<1ms'] });
    const [baseline, sandbox] = report.owners;
    assert.ok(baseline && sandbox);
    assert.deepEqual(
      [baseline.unfinished, baseline.duplicates, baseline.misrouted, baseline.completed],
      [1, 1, 0, 9],
    );
    assert.deepEqual(
      [sandbox.misrouted, sandbox.failed, sandbox.deadLettered, sandbox.unfinished, sandbox.completed],
      [1, 1, 1, 0, 8],
    );
    assert.equal(sandbox.decided, 10, 'a dead-lettered event was decided too');
    assert.match(sandbox.examples.misrouted[0] ?? '', /ran on baseline, expected pr-<101>/);
    assert.equal(baseline.examples.unfinished.length, 1);
    assert.equal(sandbox.examples.deadLettered.length, 1);
    assert.equal(report.passed, false);
    assert.deepEqual(report.problems, [
      'baseline: 1 unfinished at the end of the drain (Temporal not asked: late or stuck, not known to be lost)',
      'baseline: 1 events ran more than once',
      'pr-<101>: 1 misrouted',
      'pr-<101>: 1 workflows failed',
      'pr-<101>: 1 dead-lettered by the ingress (never run)',
    ]);
    assert.deepEqual(report.failures, [
      ...report.problems,
      `threshold p99<1ms not met: ${report.thresholds[0]?.actual}`,
    ]);
    const text = formatReport(report);
    assert.match(text, /misrouted .*ran on baseline/);
    assert.match(text, /^FAILED: .*; 1 threshold not met \(✗ above\)$/m);
    assert.equal(text.split('p99<1ms').length - 1, 1, `the breached threshold is listed once:\n${text}`);
    const html = reportHtml(report);
    assert.ok(!html.includes('pr-<101>'), 'owner names are escaped in the page');
    assert.match(html, /pr-&lt;101&gt;/);
    // Each failure once in the page: the checks in the verdict, the thresholds in their own list.
    for (const failure of [...report.problems, 'p99&lt;1ms']) {
      const escaped = failure.replaceAll('<', '&lt;').replaceAll('>', '&gt;');
      assert.equal(html.split(escaped).length - 1, 1, `listed once: ${failure}`);
    }
  });

  it('calls what has no outcome by the end of the drain unfinished, with what Temporal says of it, never lost', async () => {
    const pipeline = fakePipeline({
      workMs: 10,
      fault: (id, seq) => (id.includes('-0-') && seq <= 3 ? 'unfinished' : undefined),
    });
    const asked: string[] = [];
    const inspector = fakeInspector({
      states: (workflowId) => {
        asked.push(workflowId);
        const seq = Number(workflowId.split('-').at(-1));
        return seq === 1 ? 'running' : seq === 2 ? 'closed' : 'not-found';
      },
    });
    const report = await run(pipeline, { drainTimeoutMs: 300, inspector });
    assert.equal(report.overall.unfinished, 3);
    assert.deepEqual(asked.sort(), [1, 2, 3].map((n) => `evt-${report.idPrefix}0-${n}`).sort());
    assert.deepEqual(report.overall.unfinishedInTemporal, {
      running: 1,
      closed: 1,
      notStarted: 1,
      notAsked: 0,
    });
    assert.deepEqual(report.owners[1]?.unfinishedInTemporal, {
      running: 0,
      closed: 0,
      notStarted: 0,
      notAsked: 0,
    });
    assert.equal(
      report.problems[0],
      'baseline: 3 unfinished at the end of the drain (1 still running in Temporal (late), 1 closed in Temporal by then (finished late, or their trail records were missed), 1 with no workflow yet (not started: waiting before the ingress, or dropped))',
    );
    const text = formatReport(report);
    assert.doesNotMatch(text, /\blost\b/, 'nothing is called lost');
    assert.doesNotMatch(JSON.stringify(report), /"lost"/);
    assert.match(text, /^unfinished \(baseline\): /m);

    // Temporal away: the report says so, and still not "lost".
    const away = await run(
      fakePipeline({
        workMs: 10,
        fault: (id, seq) => (id.includes('-0-') && seq === 1 ? 'unfinished' : undefined),
      }),
      {
        drainTimeoutMs: 200,
        inspector: fakeInspector({
          states: () => {
            throw new Error('Temporal unreachable');
          },
        }),
      },
    );
    assert.equal(away.overall.unfinishedInTemporal, null);
    assert.equal(away.temporalError, 'Temporal unreachable');
    assert.match(
      away.problems[0] ?? '',
      /1 unfinished at the end of the drain \(Temporal not asked: late or stuck, not known to be lost\)/,
    );
  });

  it('warns before sending when work is waiting in the pipeline, and says how much', async () => {
    const warnings: string[] = [];
    const backlog: Backlog = {
      ingress: { group: 'ingress', topic: 'events', waiting: 340 },
      queues: [
        { owner: 'baseline', taskQueue: 'orders', running: 57 },
        { owner: 'pr-<101>', taskQueue: 'orders@pr-<101>', running: 0 },
      ],
      errors: [],
    };
    const report = await run(fakePipeline({ workMs: 10 }), {
      inspector: fakeInspector({ backlog }),
      onWarning: (text) => warnings.push(text),
    });
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? '',
      /^work is waiting before this run: 340 events on events not read yet by the ingress \(group ingress\); 57 workflows open on orders \(baseline\)\. This run's events queue behind it/,
    );
    assert.doesNotMatch(warnings[0] ?? '', /orders@/, 'an empty queue is not mentioned');
    assert.deepEqual(report.backlog, backlog);
    assert.match(
      formatReport(report),
      /^before the run: 340 events not read by the ingress, 57 workflows open on orders$/m,
    );
    assert.match(reportHtml(report), /Before the run, work is waiting/);

    // Nothing waiting: no warning.
    const quiet: string[] = [];
    const calm = await run(fakePipeline({ workMs: 10 }), {
      inspector: fakeInspector({
        backlog: {
          ...backlog,
          ingress: { ...backlog.ingress, waiting: 0 } as Backlog['ingress'],
          queues: [],
        },
      }),
      onWarning: (text) => quiet.push(text),
    });
    assert.deepEqual(quiet, []);
    assert.match(formatReport(calm), /^before the run: nothing waiting$/m);
  });

  it('retries a send while Kafka is away: the events go out late, not failed, and say so', async () => {
    const pipeline = fakePipeline({ workMs: 10 });
    const send = pipeline.sender.send.bind(pipeline.sender);
    let failing = 3;
    pipeline.sender.send = async (topic, messages) => {
      if (failing-- > 0) throw new Error('Connection error: connect ECONNREFUSED');
      return send(topic, messages);
    };
    const report = await run(pipeline, { sendRetryTimeoutMs: 30_000 });
    assert.equal(report.overall.sendFailures, 0);
    assert.equal(report.overall.sent, 20);
    assert.equal(report.overall.completed, 20);
    assert.ok(report.overall.sendRetried > 0, 'some went out late');
    assert.equal(report.passed, true, report.failures.join('; '));
    assert.match(formatReport(report), /events were sent late, retried while Kafka did not answer/);
  });

  it('counts an event whose send was not acknowledged but which ran as sent', async () => {
    const pipeline = fakePipeline({ workMs: 10 });
    const send = pipeline.sender.send.bind(pipeline.sender);
    let calls = 0;
    pipeline.sender.send = async (topic, messages) => {
      const placed = await send(topic, messages);
      // Written, but the acknowledgement never came (a timeout while the broker restarted).
      if (++calls === 2) throw new Error('Request timed out');
      return placed;
    };
    const report = await run(pipeline);
    assert.equal(report.overall.sendFailures, 0);
    assert.equal(report.overall.sent, 20);
    assert.equal(report.overall.completed, 20);
  });

  it('reports a send that fails as a send failure, never as unfinished', async () => {
    const pipeline = fakePipeline({ workMs: 10 });
    const send = pipeline.sender.send.bind(pipeline.sender);
    let calls = 0;
    pipeline.sender.send = async (topic, messages) => {
      if (++calls === 2) throw new Error('broker went away');
      return send(topic, messages);
    };
    const report = await run(pipeline);
    assert.equal(report.overall.sendFailures > 0, true);
    assert.equal(report.overall.unfinished, 0);
    assert.equal(report.overall.sent + report.overall.sendFailures, 20);
    assert.match(report.failures.join('\n'), /could not be sent/);
  });

  it('stops early when aborted, and says so', async () => {
    const pipeline = fakePipeline({ workMs: 10 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const report = await run(pipeline, {
      owners: OWNERS.slice(0, 1),
      schedule: new RateSchedule([{ from: 20, to: 20, durationMs: 60_000 }]),
      drainTimeoutMs: 60_000,
      signal: abort.signal,
    });
    assert.equal(report.interrupted, true);
    assert.ok(report.overall.sent < 100, `stopped sending: ${report.overall.sent}`);
  });
});
