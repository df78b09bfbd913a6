import { type LatencyRecorder, type LatencySummary, LatencyRecorder as Recorder } from './latency';
import type { LoadOwner } from './owners';
import type { RateSchedule, RateStage } from './schedule';
import {
  type CountMetric,
  evaluateThresholds,
  type MetricSource,
  type RateMetric,
  type Threshold,
  type ThresholdResult,
} from './thresholds';
import type { EventOutcome, LoadTracker } from './tracker';

/** Version of the report format; bump on an incompatible change. */
export const LOAD_REPORT_VERSION = 1;

/** Most example event ids (and misplacement lines) a report lists per problem and owner. */
const MAX_EXAMPLES = 10;

/** Most points of an owner's timeline: the bucket width grows with the run. */
const MAX_TIMELINE_BUCKETS = 240;

/** One slice of the run, by the time its events were sent. */
export interface TimelineBucket {
  /** Seconds from the start of sending. */
  startS: number;
  /** Planned events per second per owner at the bucket's start. */
  plannedRate: number;
  sent: number;
  /** Of the events sent in this bucket: how many completed, and how many were lost or failed. */
  completed: number;
  lost: number;
  /** Their publish → completed latency, ms (null when none completed). */
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** Completions that happened during this bucket (whenever their events were sent): the throughput. */
  completionsDuring: number;
}

/** Counts, rates and latencies of one owner or of the whole run. */
export interface LoadTotals {
  /** Acknowledged by the broker. */
  sent: number;
  sendFailures: number;
  /** A workflow run started for it (the `workflow.started` trail record). */
  started: number;
  completed: number;
  /** The workflow failed or was cancelled. */
  failed: number;
  /** Some step ran on an instance other than the one its routing key names. */
  misrouted: number;
  /** Sent, but neither completed nor failed by the end of the drain. */
  lost: number;
  /** Its work was done more than once. */
  duplicates: number;
  /** Events sent per second, over the sending window. */
  sentRate: number;
  /** Completions per second between the first and the last completion. */
  completedRate: number;
  /** Publish (send began) → `workflow.completed`, ms. */
  latencyMs: LatencySummary;
  /** The latency histogram, HdrHistogram compressed base64: add several reports' up exactly. */
  histogram: string;
}

export interface OwnerReport extends LoadTotals {
  name: string;
  routingKey: string | null;
  expected: { worker: string; ingress: string };
  /** Where the time goes: publish → ingress decision, publish → first run started, started → completed. */
  stagesMs: {
    publishToIngress: LatencySummary;
    publishToStarted: LatencySummary;
    startedToCompleted: LatencySummary;
  };
  timeline: TimelineBucket[];
  examples: { misrouted: string[]; lost: string[]; failed: string[]; duplicates: string[] };
}

export interface LoadReport {
  version: typeof LOAD_REPORT_VERSION;
  tool: 'producer load';
  runId: string;
  /** Every event id of the run starts with it. */
  idPrefix: string;
  startedAt: string;
  finishedAt: string;
  /** Stopped early by SIGINT/SIGTERM. */
  interrupted: boolean;
  plan: {
    topic: string;
    eventType: string;
    stages: RateStage[];
    durationMs: number;
    eventsPerOwner: number;
    drainTimeoutMs: number;
  };
  /** How late sends began after they were due (the producer's own lag), ms. */
  sendLagMs: LatencySummary;
  owners: OwnerReport[];
  overall: LoadTotals;
  thresholds: ThresholdResult[];
  /** No misroute, loss, failure, duplicate or send failure, and every threshold met. */
  passed: boolean;
  /** Why it did not pass, one line each. */
  failures: string[];
}

/** What the run measured, besides the tracker. */
export interface RunFacts {
  runId: string;
  idPrefix: string;
  startedAt: number;
  /** When sending began and ended (epoch ms). */
  sendStart: number;
  sendEnd: number;
  finishedAt: number;
  interrupted: boolean;
  topic: string;
  eventType: string;
  schedule: RateSchedule;
  drainTimeoutMs: number;
  sendLag: LatencyRecorder;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

function quantiles(latencies: number[]): Pick<TimelineBucket, 'p50' | 'p99' | 'max'> {
  if (latencies.length === 0) return { p50: null, p99: null, max: null };
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(p * latencies.length) - 1))] as number;
  return { p50: Math.round(at(0.5)), p99: Math.round(at(0.99)), max: Math.round(at(1)) };
}

/** The owner's events in slices of send time (the bucket width keeps the series short). */
function timeline(outcomes: EventOutcome[], facts: RunFacts): TimelineBucket[] {
  // Sending, then the drain while completions still came in (its buckets show throughput only).
  const lastCompletion = outcomes.reduce((last, o) => Math.max(last, o.completedAt ?? last), facts.sendStart);
  const spanMs = Math.max(
    facts.sendEnd - facts.sendStart,
    facts.schedule.durationMs,
    lastCompletion - facts.sendStart,
    1,
  );
  const widthMs = Math.max(1000, Math.ceil(spanMs / MAX_TIMELINE_BUCKETS / 1000) * 1000);
  const count = Math.max(1, Math.ceil(spanMs / widthMs));
  const buckets = Array.from({ length: count }, (_, i) => ({
    latencies: [] as number[],
    sent: 0,
    lost: 0,
    completionsDuring: 0,
    startS: (i * widthMs) / 1000,
  }));
  const index = (at: number) =>
    Math.min(count - 1, Math.max(0, Math.floor((at - facts.sendStart) / widthMs)));
  for (const outcome of outcomes) {
    if (!outcome.acked) continue;
    const bucket = buckets[index(outcome.sentAt)] as (typeof buckets)[number];
    bucket.sent++;
    if (outcome.latencyMs !== null) bucket.latencies.push(outcome.latencyMs);
    else bucket.lost++;
    if (outcome.completedAt !== null) {
      const during = Math.floor((outcome.completedAt - facts.sendStart) / widthMs);
      if (during >= 0 && during < count) (buckets[during] as (typeof buckets)[number]).completionsDuring++;
    }
  }
  return buckets.map((b) => ({
    startS: b.startS,
    plannedRate: round1(facts.schedule.rateAt(b.startS * 1000)),
    sent: b.sent,
    completed: b.latencies.length,
    lost: b.lost,
    ...quantiles(b.latencies),
    completionsDuring: b.completionsDuring,
  }));
}

function totals(outcomes: EventOutcome[], latency: LatencyRecorder, facts: RunFacts): LoadTotals {
  const acked = outcomes.filter((o) => o.acked);
  const completed = acked.filter((o) => o.completedAt !== null);
  const completions = completed.map((o) => o.completedAt as number).sort((a, b) => a - b);
  const first = completions[0];
  const last = completions.at(-1);
  const sendWindowS = Math.max(facts.sendEnd - facts.sendStart, facts.schedule.durationMs) / 1000;
  return {
    sent: acked.length,
    sendFailures: outcomes.filter((o) => o.sendFailed).length,
    started: 0, // filled by the caller, which knows the trail's starts
    completed: completed.length,
    failed: acked.filter((o) => o.failed).length,
    misrouted: outcomes.filter((o) => o.misplaced.length > 0).length,
    lost: acked.filter((o) => o.completedAt === null && !o.failed).length,
    duplicates: outcomes.filter((o) => o.duplicate).length,
    sentRate: round1(acked.length / Math.max(sendWindowS, 0.001)),
    completedRate:
      first !== undefined && last !== undefined && last > first
        ? round1((completions.length - 1) / ((last - first) / 1000))
        : 0,
    latencyMs: latency.summary(),
    histogram: latency.encode(),
  };
}

function metricSource(report: LoadTotals, latency: LatencyRecorder): MetricSource {
  const counts: Record<CountMetric, number> = {
    sent: report.sent,
    send_failures: report.sendFailures,
    started: report.started,
    completed: report.completed,
    failed: report.failed,
    misrouted: report.misrouted,
    lost: report.lost,
    duplicates: report.duplicates,
  };
  const rates: Record<RateMetric, number> = { rate: report.completedRate, sent_rate: report.sentRate };
  return {
    counts,
    rates,
    percentile: (p) => latency.percentile(p),
    latency: { min: latency.min, max: latency.max, avg: latency.avg },
  };
}

/** Why a run fails besides its thresholds: any misroute, loss, failure, duplicate or failed send. */
function builtInFailures(name: string, t: LoadTotals): string[] {
  const failures: string[] = [];
  if (t.misrouted > 0) failures.push(`${name}: ${t.misrouted} misrouted`);
  if (t.lost > 0) failures.push(`${name}: ${t.lost} lost (not completed by the end of the drain)`);
  if (t.failed > 0) failures.push(`${name}: ${t.failed} workflows failed`);
  if (t.duplicates > 0) failures.push(`${name}: ${t.duplicates} events ran more than once`);
  if (t.sendFailures > 0) failures.push(`${name}: ${t.sendFailures} events could not be sent`);
  return failures;
}

/** The report of a finished run. */
export function buildReport(
  tracker: LoadTracker,
  facts: RunFacts,
  thresholds: readonly Threshold[],
): LoadReport {
  const outcomes = tracker.outcomes();
  const owners: OwnerReport[] = tracker.owners.map((owner: LoadOwner, index) => {
    const mine = outcomes.filter((o) => o.owner === index);
    const stats = tracker.ownerStats(index);
    const base = totals(mine, stats.endToEnd, facts);
    base.started = stats.started;
    const ids = (pick: (o: EventOutcome) => boolean) =>
      mine
        .filter(pick)
        .slice(0, MAX_EXAMPLES)
        .map((o) => o.eventId);
    return {
      name: owner.name,
      routingKey: owner.routingKey,
      expected: owner.expected,
      ...base,
      stagesMs: {
        publishToIngress: stats.toIngress.summary(),
        publishToStarted: stats.toStarted.summary(),
        startedToCompleted: stats.startedToCompleted.summary(),
      },
      timeline: timeline(mine, facts),
      examples: {
        misrouted: mine
          .filter((o) => o.misplaced.length > 0)
          .slice(0, MAX_EXAMPLES)
          .map((o) => `${o.eventId}: ${o.misplaced.join('; ')}`),
        lost: ids((o) => o.acked && o.completedAt === null && !o.failed),
        failed: ids((o) => o.failed),
        duplicates: ids((o) => o.duplicate),
      },
    };
  });
  const overallLatency = new Recorder();
  overallLatency.add(tracker.overallLatency());
  const overall = totals(outcomes, overallLatency, facts);
  overall.started = owners.reduce((sum, o) => sum + o.started, 0);
  const sources = new Map(
    owners.map((o, index) => [o.name, metricSource(o, tracker.ownerStats(index).endToEnd)] as const),
  );
  const results = evaluateThresholds(thresholds, metricSource(overall, overallLatency), sources);
  const failures = [
    ...owners.flatMap((o) => builtInFailures(o.name, o)),
    ...results
      .filter((r) => !r.ok)
      .map((r) =>
        r.actual === null
          ? `threshold ${r.expression} not met: no value${r.owner ? ` (owner ${r.owner})` : ''}`
          : `threshold ${r.expression} not met: ${round1(r.actual)}`,
      ),
  ];
  return {
    version: LOAD_REPORT_VERSION,
    tool: 'producer load',
    runId: facts.runId,
    idPrefix: facts.idPrefix,
    startedAt: new Date(facts.startedAt).toISOString(),
    finishedAt: new Date(facts.finishedAt).toISOString(),
    interrupted: facts.interrupted,
    plan: {
      topic: facts.topic,
      eventType: facts.eventType,
      stages: [...facts.schedule.stages],
      durationMs: facts.schedule.durationMs,
      eventsPerOwner: facts.schedule.size,
      drainTimeoutMs: facts.drainTimeoutMs,
    },
    sendLagMs: facts.sendLag.summary(),
    owners,
    overall,
    thresholds: results,
    passed: failures.length === 0,
    failures,
  };
}

const ms = (value: number | null) => (value === null ? '-' : `${Math.round(value)} ms`);

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd(),
  );
}

/** The end-of-run summary: one row per owner and one for all, thresholds, and the verdict. */
export function formatReport(report: LoadReport): string {
  const row = (name: string, t: LoadTotals) => [
    name,
    String(t.sent),
    String(t.started),
    String(t.completed),
    String(t.misrouted),
    String(t.lost),
    String(t.duplicates),
    String(t.failed),
    ms(t.latencyMs.p50),
    ms(t.latencyMs.p95),
    ms(t.latencyMs.p99),
    ms(t.latencyMs.max),
    `${t.sentRate}/s`,
    `${t.completedRate}/s`,
  ];
  const lines = table([
    [
      'owner',
      'sent',
      'started',
      'completed',
      'misrouted',
      'lost',
      'dup',
      'failed',
      'p50',
      'p95',
      'p99',
      'max',
      'sent/s',
      'done/s',
    ],
    ...report.owners.map((o) => row(o.name, o)),
    ...(report.owners.length > 1 ? [row('all', report.overall)] : []),
  ]);
  lines.push('');
  lines.push('where the time goes (p50 / p99):');
  const width = Math.max(...report.owners.map((o) => o.name.length));
  for (const o of report.owners) {
    const s = o.stagesMs;
    const parts = (
      [
        ['publish→ingress', s.publishToIngress],
        ['publish→started', s.publishToStarted],
        ['started→completed', s.startedToCompleted],
      ] as const
    ).flatMap(([label, summary]) =>
      summary.count === 0 ? [] : [`${label} ${ms(summary.p50)} / ${ms(summary.p99)}`],
    );
    lines.push(`  ${`${o.name}:`.padEnd(width + 1)}  ${parts.join('   ')}`);
  }
  if (report.sendLagMs.count > 0 && (report.sendLagMs.p99 ?? 0) > 100) {
    lines.push(`  the producer itself sent late: p99 ${ms(report.sendLagMs.p99)} behind schedule`);
  }
  for (const result of report.thresholds) {
    const actual = result.actual === null ? 'no value' : String(round1(result.actual));
    lines.push(`${result.ok ? '✓' : '✗'} ${result.expression}  (${actual})`);
  }
  for (const o of report.owners) {
    for (const line of o.examples.misrouted) lines.push(`misrouted ${line}`);
    if (o.examples.lost.length > 0)
      lines.push(
        `lost (${o.name}): ${o.examples.lost.join(', ')}${o.lost > o.examples.lost.length ? ', …' : ''}`,
      );
  }
  lines.push(
    report.passed
      ? `passed${report.interrupted ? ' (interrupted)' : ''}`
      : `FAILED: ${report.failures.join('; ')}${report.interrupted ? ' (interrupted)' : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
