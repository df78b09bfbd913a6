import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context } from '@opentelemetry/api';
import {
  type PipelineEvent,
  routingKeyFromContext,
  type TrailRecord,
  workflowIdOfEvent,
} from '@sandbox-routing/shared';
import { useTelemetry } from '../../__tests__/telemetry';
import { sampleOrder } from '../../payload';
import type { EventSender } from '../../publish';
import { reportHtml } from '../chart';
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

type Fault = 'lost' | 'misrouted' | 'duplicate' | 'failed' | undefined;

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
        if (fault === 'lost') continue;
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
      thresholds: ['p99<10s', 'lost==0', 'completed{owner:pr-<101>}==10'],
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
          owner.started,
          owner.completed,
          owner.misrouted,
          owner.lost,
          owner.duplicates,
          owner.failed,
        ],
        [10, 10, 10, 0, 0, 0, 0],
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

  it('counts misrouted, lost, failed and duplicated events per owner, and fails the run for each', async () => {
    const pipeline = fakePipeline({
      workMs: 20,
      fault: (id, seq) => {
        const sandbox = id.includes('-1-'); // owner index 1: the sandbox
        if (!sandbox) return seq === 2 ? 'lost' : seq === 3 ? 'duplicate' : undefined;
        return seq === 4 ? 'misrouted' : seq === 5 ? 'failed' : undefined;
      },
    });
    const report = await run(pipeline, { drainTimeoutMs: 500, thresholds: ['p99<1ms'] });
    const [baseline, sandbox] = report.owners;
    assert.ok(baseline && sandbox);
    assert.deepEqual(
      [baseline.lost, baseline.duplicates, baseline.misrouted, baseline.completed],
      [1, 1, 0, 9],
    );
    assert.deepEqual([sandbox.misrouted, sandbox.failed, sandbox.lost, sandbox.completed], [1, 1, 0, 9]);
    assert.match(sandbox.examples.misrouted[0] ?? '', /ran on baseline, expected pr-<101>/);
    assert.equal(baseline.examples.lost.length, 1);
    assert.equal(report.passed, false);
    assert.deepEqual(report.failures, [
      'baseline: 1 lost (not completed by the end of the drain)',
      'baseline: 1 events ran more than once',
      'pr-<101>: 1 misrouted',
      'pr-<101>: 1 workflows failed',
      `threshold p99<1ms not met: ${report.thresholds[0]?.actual}`,
    ]);
    const text = formatReport(report);
    assert.match(text, /misrouted .*ran on baseline/);
    assert.match(text, /^FAILED: /m);
    const html = reportHtml(report);
    assert.ok(!html.includes('pr-<101>'), 'owner names are escaped in the page');
    assert.match(html, /pr-&lt;101&gt;/);
  });

  it('reports a send that fails as a send failure, never as lost', async () => {
    const pipeline = fakePipeline({ workMs: 10 });
    const send = pipeline.sender.send.bind(pipeline.sender);
    let calls = 0;
    pipeline.sender.send = async (topic, messages) => {
      if (++calls === 2) throw new Error('broker went away');
      return send(topic, messages);
    };
    const report = await run(pipeline);
    assert.equal(report.overall.sendFailures > 0, true);
    assert.equal(report.overall.lost, 0);
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
