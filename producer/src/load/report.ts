import { workflowIdOfEvent } from '@sandbox-routing/sample';
import type { Backlog, WorkflowState } from './inspect';
import { type LatencyRecorder, type LatencySummary, LatencyRecorder as Recorder } from './latency';
import type { LoadOwner } from './owners';
import type { RateSchedule, RateStage } from './schedule';
import { type EventTiming, judgeStep, throughputOf } from './sustained';
import {
  type CountMetric,
  evaluateThresholds,
  type MetricSource,
  type RateMetric,
  type Threshold,
  type ThresholdResult,
} from './thresholds';
import type { EventOutcome, LoadTracker } from './tracker';

/**
 * Version of the report format; bump on an incompatible change. 2: `lost` became `unfinished` (with
 * what Temporal says of them), plus `deadLettered`, `decided`, `sendRetried`, `backlog`, `keptUp`.
 */
export const LOAD_REPORT_VERSION = 2;

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
  /** Of the events sent in this bucket: how many completed, and how many did not (yet). */
  completed: number;
  notCompleted: number;
  /** Their publish → completed latency, ms (null when none completed). */
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** Completions that happened during this bucket (whenever their events were sent): the throughput. */
  completionsDuring: number;
}

/** Counts, rates and latencies of one owner or of the whole run. */
export interface LoadTotals {
  /** Acknowledged by the broker (or, unacknowledged, seen in the trail all the same). */
  sent: number;
  /** Not sent: every attempt failed within PUBLISH_RETRY_TIMEOUT_MS, and the trail never saw it. */
  sendFailures: number;
  /** Sent late: its send was retried (Kafka was away); its latency counts from the first attempt. */
  sendRetried: number;
  /** The ingress decided it (an `ingress.decided` record; 0 when the ingress publishes none). */
  decided: number;
  /** A workflow run started for it (the `workflow.started` trail record). */
  started: number;
  completed: number;
  /** The workflow failed or was cancelled. */
  failed: number;
  /** The ingress dead-lettered it: it never runs unless replayed. */
  deadLettered: number;
  /** Some step ran on an instance other than the one its routing key names. */
  misrouted: number;
  /**
   * Sent, and no outcome (completed, failed, dead-lettered) seen in the trail by the end of the drain:
   * late, or stuck; not known to be lost.
   */
  unfinished: number;
  /**
   * What Temporal said of the unfinished ones after the drain: still running (late), closed by then
   * (finished late, or its trail record was missed), or no workflow at all (not started yet: waiting
   * before the ingress, or never to start). Null when Temporal was not asked or did not answer; `notAsked` counts those
   * beyond the most it describes.
   */
  unfinishedInTemporal: { running: number; closed: number; notStarted: number; notAsked: number } | null;
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
  examples: {
    misrouted: string[];
    unfinished: string[];
    failed: string[];
    deadLettered: string[];
    duplicates: string[];
  };
}

/** One window of the run, judged as `npm run bench` judges a step. */
export interface KeptUpWindow {
  /** Seconds from the start of sending. */
  fromS: number;
  toS: number;
  /** Planned events per second, every owner together. */
  offeredRate: number;
  events: number;
  /** Completions per second in the steady state (see `throughputOf`). */
  throughput: number;
  /** Null when too few events to judge. */
  sustained: boolean | null;
  verdict: string;
}

/** The highest rate the pipeline kept up with during the run. */
export interface KeptUp {
  /**
   * Events per second, every owner together: the highest offered rate of the windows it kept up with,
   * up to the first it did not (after that, a backlog weighs on every later window). Null when none.
   */
  rate: number | null;
  /** Why it stopped keeping up, or that it kept up throughout. */
  verdict: string;
  windows: KeptUpWindow[];
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
  /** What was waiting in the pipeline before the run (null when not checked). */
  backlog: Backlog | null;
  /** Why Temporal was not asked about the unfinished events, when it was not. */
  temporalError: string | null;
  keptUp: KeptUp;
  owners: OwnerReport[];
  overall: LoadTotals;
  thresholds: ThresholdResult[];
  /** No misroute, unfinished, failed, dead-lettered or duplicated event, no send failure, every threshold met. */
  passed: boolean;
  /** Why it did not pass, one line each: `problems`, then each threshold not met. */
  failures: string[];
  /** The failures that are not thresholds (those are in `thresholds`). */
  problems: string[];
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
  backlog: Backlog | null;
  /** Temporal's state of the unfinished events' workflows (by workflow id), or why it is not known. */
  temporal: { states: ReadonlyMap<string, WorkflowState> } | { error: string } | null;
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
    notCompleted: 0,
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
    else bucket.notCompleted++;
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
    notCompleted: b.notCompleted,
    ...quantiles(b.latencies),
    completionsDuring: b.completionsDuring,
  }));
}

/** The Temporal breakdown of the unfinished outcomes, or null when Temporal was not asked. */
function inTemporal(unfinished: EventOutcome[], facts: RunFacts): LoadTotals['unfinishedInTemporal'] {
  if (!facts.temporal || 'error' in facts.temporal) return unfinished.length === 0 ? zeroBreakdown() : null;
  const states = facts.temporal.states;
  const breakdown = zeroBreakdown();
  for (const outcome of unfinished) {
    const state = states.get(workflowIdOfEvent(outcome.eventId));
    if (state === 'running') breakdown.running++;
    else if (state === 'closed') breakdown.closed++;
    else if (state === 'not-found') breakdown.notStarted++;
    else breakdown.notAsked++;
  }
  return breakdown;
}

const zeroBreakdown = () => ({ running: 0, closed: 0, notStarted: 0, notAsked: 0 });

function totals(outcomes: EventOutcome[], latency: LatencyRecorder, facts: RunFacts): LoadTotals {
  const acked = outcomes.filter((o) => o.acked);
  const completed = acked.filter((o) => o.completedAt !== null);
  const completions = completed.map((o) => o.completedAt as number).sort((a, b) => a - b);
  const first = completions[0];
  const last = completions.at(-1);
  const sendWindowS = Math.max(facts.sendEnd - facts.sendStart, facts.schedule.durationMs) / 1000;
  const unfinished = outcomes.filter((o) => o.unfinished);
  return {
    sent: acked.length,
    sendFailures: outcomes.filter((o) => o.sendFailed).length,
    sendRetried: outcomes.filter((o) => o.retried).length,
    decided: 0, // filled by the caller, which knows the trail's decisions
    started: 0, // and its starts
    completed: completed.length,
    failed: acked.filter((o) => o.failed).length,
    deadLettered: outcomes.filter((o) => o.deadLettered).length,
    misrouted: outcomes.filter((o) => o.misplaced.length > 0).length,
    unfinished: unfinished.length,
    unfinishedInTemporal: inTemporal(unfinished, facts),
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
    send_retried: report.sendRetried,
    decided: report.decided,
    started: report.started,
    completed: report.completed,
    failed: report.failed,
    dead_lettered: report.deadLettered,
    misrouted: report.misrouted,
    unfinished: report.unfinished,
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

/** What Temporal said of the unfinished events, in words. */
export function unfinishedDetail(t: Pick<LoadTotals, 'unfinished' | 'unfinishedInTemporal'>): string {
  const by = t.unfinishedInTemporal;
  if (!by) return 'Temporal not asked: late or stuck, not known to be lost';
  const parts = [
    by.running > 0 ? `${by.running} still running in Temporal (late)` : '',
    by.closed > 0
      ? `${by.closed} closed in Temporal by then (finished late, or their trail records were missed)`
      : '',
    by.notStarted > 0
      ? `${by.notStarted} with no workflow yet (not started: waiting before the ingress, or dropped)`
      : '',
    by.notAsked > 0 ? `${by.notAsked} not asked about` : '',
  ].filter((part) => part !== '');
  return parts.join(', ');
}

/** Why a run fails besides its thresholds. */
function builtInFailures(name: string, t: LoadTotals): string[] {
  const failures: string[] = [];
  if (t.misrouted > 0) failures.push(`${name}: ${t.misrouted} misrouted`);
  if (t.unfinished > 0) {
    failures.push(`${name}: ${t.unfinished} unfinished at the end of the drain (${unfinishedDetail(t)})`);
  }
  if (t.failed > 0) failures.push(`${name}: ${t.failed} workflows failed`);
  if (t.deadLettered > 0)
    failures.push(`${name}: ${t.deadLettered} dead-lettered by the ingress (never run)`);
  if (t.duplicates > 0) failures.push(`${name}: ${t.duplicates} events ran more than once`);
  if (t.sendFailures > 0) failures.push(`${name}: ${t.sendFailures} events could not be sent`);
  return failures;
}

/** Shortest window of a ramp judged on its own (a flat stage is one window however long). */
const WINDOW_MS = 10_000;
/** Fewer events than this in a window say nothing about keeping up. */
const MIN_WINDOW_EVENTS = 10;

/** The windows of a schedule: each flat stage whole, each ramp in slices of about WINDOW_MS. */
function windowsOf(schedule: RateSchedule): { fromMs: number; toMs: number }[] {
  const windows: { fromMs: number; toMs: number }[] = [];
  let offset = 0;
  for (const stage of schedule.stages) {
    const slices = stage.from === stage.to ? 1 : Math.max(1, Math.round(stage.durationMs / WINDOW_MS));
    for (let i = 0; i < slices; i++) {
      windows.push({
        fromMs: offset + (stage.durationMs * i) / slices,
        toMs: offset + (stage.durationMs * (i + 1)) / slices,
      });
    }
    offset += stage.durationMs;
  }
  return windows;
}

/**
 * The highest rate the pipeline kept up with: each window of the run (by the events' send times) is
 * judged as `npm run bench` judges a step of its ladder (`judgeStep`), in order, up to the first that
 * was not kept up with.
 */
export function keptUpWith(
  outcomes: readonly EventOutcome[],
  owners: readonly string[],
  facts: RunFacts,
): KeptUp {
  const acked = outcomes.filter((o) => o.acked);
  const windows: KeptUpWindow[] = [];
  let rate: number | null = null;
  let verdict: string | undefined;
  const bounds = windowsOf(facts.schedule);
  for (const [index, { fromMs, toMs }] of bounds.entries()) {
    const last = index === bounds.length - 1;
    const timings: EventTiming[] = acked
      .filter((o) => {
        const at = o.sentAt - facts.sendStart;
        // Sends that went out after the schedule ended (late ones) belong to its last window.
        return at >= fromMs && (at < toMs || last);
      })
      .map((o) => ({
        owner: owners[o.owner] ?? String(o.owner),
        sentAtMs: o.sentAt - facts.sendStart,
        latencyMs: o.latencyMs,
      }));
    const planned = facts.schedule.dueBy(toMs - 1e-9) - facts.schedule.dueBy(fromMs - 1e-9);
    const offeredRate = round1((planned * owners.length) / ((toMs - fromMs) / 1000));
    const window: KeptUpWindow = {
      fromS: round1(fromMs / 1000),
      toS: round1(toMs / 1000),
      offeredRate,
      events: timings.length,
      throughput: throughputOf(timings),
      sustained: null,
      verdict: `too few events to judge (fewer than ${MIN_WINDOW_EVENTS})`,
    };
    windows.push(window);
    if (verdict !== undefined || timings.length < MIN_WINDOW_EVENTS) continue;
    const judged = judgeStep(offeredRate, timings, window.throughput);
    window.sustained = judged.sustained;
    window.verdict = judged.verdict;
    if (judged.sustained) rate = Math.max(rate ?? 0, offeredRate);
    else verdict = `from ${window.fromS} s at ${offeredRate}/s: ${judged.verdict}`;
  }
  const judgedAny = windows.some((w) => w.sustained !== null);
  return {
    rate,
    verdict: !judgedAny
      ? `too few events to judge (fewer than ${MIN_WINDOW_EVENTS} per window)`
      : (verdict ?? 'kept up throughout'),
    windows,
  };
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
    base.decided = stats.decided;
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
        unfinished: ids((o) => o.unfinished),
        failed: ids((o) => o.failed),
        deadLettered: ids((o) => o.deadLettered),
        duplicates: ids((o) => o.duplicate),
      },
    };
  });
  const overallLatency = new Recorder();
  overallLatency.add(tracker.overallLatency());
  const overall = totals(outcomes, overallLatency, facts);
  overall.decided = owners.reduce((sum, o) => sum + o.decided, 0);
  overall.started = owners.reduce((sum, o) => sum + o.started, 0);
  const sources = new Map(
    owners.map((o, index) => [o.name, metricSource(o, tracker.ownerStats(index).endToEnd)] as const),
  );
  const results = evaluateThresholds(thresholds, metricSource(overall, overallLatency), sources);
  const problems = owners.flatMap((o) => builtInFailures(o.name, o));
  const failures = [
    ...problems,
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
    backlog: facts.backlog,
    temporalError: facts.temporal && 'error' in facts.temporal ? facts.temporal.error : null,
    keptUp: keptUpWith(
      outcomes,
      owners.map((o) => o.name),
      facts,
    ),
    owners,
    overall,
    thresholds: results,
    passed: failures.length === 0,
    failures,
    problems,
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

/** The highest rate kept up with, in one line. */
export function keptUpLine(report: Pick<LoadReport, 'keptUp' | 'owners'>): string {
  const { rate, verdict } = report.keptUp;
  const perOwner =
    report.owners.length > 1 && rate !== null ? ` (${round1(rate / report.owners.length)}/s per owner)` : '';
  if (rate === null) return `kept up with: no rate of the run (${verdict})`;
  return `kept up with: ${rate} events/s${perOwner}${verdict === 'kept up throughout' ? ', throughout' : `; then ${verdict}`}`;
}

/** What waited before the run, in one line (undefined when it was not checked). */
function backlogLine(backlog: Backlog | null): string | undefined {
  if (!backlog) return undefined;
  const parts: string[] = [];
  if (backlog.ingress && backlog.ingress.waiting > 0) {
    parts.push(`${backlog.ingress.waiting} events not read by the ingress`);
  }
  for (const queue of backlog.queues ?? []) {
    if (queue.running > 0) parts.push(`${queue.running} workflows open on ${queue.taskQueue}`);
  }
  for (const error of backlog.errors) parts.push(`not checked: ${error}`);
  return `before the run: ${parts.length > 0 ? parts.join(', ') : 'nothing waiting'}`;
}

/** The end-of-run summary: one row per owner and one for all, thresholds, and the verdict. */
export function formatReport(report: LoadReport): string {
  const row = (name: string, t: LoadTotals) => [
    name,
    String(t.sent),
    String(t.decided),
    String(t.started),
    String(t.completed),
    String(t.unfinished),
    String(t.misrouted),
    String(t.duplicates),
    String(t.failed + t.deadLettered),
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
      'decided',
      'started',
      'completed',
      'unfinished',
      'misrouted',
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
  if (report.overall.sendRetried > 0) {
    lines.push(
      `  ${report.overall.sendRetried} events were sent late, retried while Kafka did not answer (their latency counts from the first attempt)`,
    );
  }
  const before = backlogLine(report.backlog);
  if (before) lines.push(before);
  lines.push(keptUpLine(report));
  for (const result of report.thresholds) {
    const actual = result.actual === null ? 'no value' : String(round1(result.actual));
    lines.push(`${result.ok ? '✓' : '✗'} ${result.expression}  (${actual})`);
  }
  for (const o of report.owners) {
    for (const line of o.examples.misrouted) lines.push(`misrouted ${line}`);
    const list = (what: string, ids: string[], count: number) => {
      if (ids.length > 0)
        lines.push(`${what} (${o.name}): ${ids.join(', ')}${count > ids.length ? ', …' : ''}`);
    };
    list('unfinished', o.examples.unfinished, o.unfinished);
    list('dead-lettered', o.examples.deadLettered, o.deadLettered);
  }
  // Thresholds not met are marked ✗ above: the verdict counts them rather than repeating them.
  const breached = report.thresholds.filter((t) => !t.ok).length;
  const reasons = [
    ...report.problems,
    ...(breached > 0 ? [`${breached} threshold${breached === 1 ? '' : 's'} not met (✗ above)`] : []),
  ];
  lines.push(
    report.passed
      ? `passed${report.interrupted ? ' (interrupted)' : ''}`
      : `FAILED: ${reasons.join('; ')}${report.interrupted ? ' (interrupted)' : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
