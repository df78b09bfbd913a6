import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { context } from '@opentelemetry/api';
import { contextWithRoutingKey } from '@sandbox-routing/core';
import { createEvent, workflowIdOfEvent } from '@sandbox-routing/sample';
import type { TrailRecord, TrailSubscription } from '@sandbox-routing/trail';
import type { PublishLog } from '../log';
import type { PayloadFactory } from '../payload';
import { type EventSender, MAX_BATCH, retryFor, toMessages } from '../publish';
import { type Backlog, backlogWarning, type LoadInspector, MAX_DESCRIBED } from './inspect';
import { LatencyRecorder } from './latency';
import type { LoadOwner } from './owners';
import { type LoadProgress, stallHint } from './progress';
import { buildReport, type LoadReport, type RunFacts } from './report';
import type { RateSchedule } from './schedule';
import type { Threshold } from './thresholds';
import { type LiveCounts, LoadTracker } from './tracker';

/** Sends of one owner's due events that may be in flight at once (kafkajs pipelines them). */
const MAX_SENDS_IN_FLIGHT = 8;

/** After the drain, how long late records are still read (a duplicate shows up as a second completion). */
const DEFAULT_SETTLE_MS = 1000;

export interface LoadRunOptions {
  owners: readonly LoadOwner[];
  schedule: RateSchedule;
  topic: string;
  eventType: string;
  payload: PayloadFactory;
  /** Event ids are `<idPrefix>-<run id>-<owner index>-<seq>`. */
  idPrefix: string;
  /** After the last send, how long to wait for every event to complete; the rest is unfinished. */
  drainTimeoutMs: number;
  settleMs?: number;
  thresholds: readonly Threshold[];
  sender: EventSender;
  /**
   * How long a failed send is retried (with back-off) while the error is one retrying can help, e.g.
   * Kafka away: the events go out late, their latency counting from the first attempt. Default 0: a
   * failed send is a send failure at once.
   */
  sendRetryTimeoutMs?: number;
  /** Starts reading trail records (resolves once reading; see `subscribeTrail`). */
  subscribe(onRecord: (record: TrailRecord) => void): Promise<TrailSubscription>;
  /** The results topic, for the progress line's hints. */
  resultsTopic?: string;
  /**
   * Asks Kafka and Temporal before the run what work is waiting, and after the drain what became of
   * the events with no outcome in the trail. Without it, neither is known.
   */
  inspector?: LoadInspector;
  /** A warning for the user (work waiting before the run). */
  onWarning?(text: string): void;
  /** Called about every `progressIntervalMs` while the run goes. */
  onProgress?(progress: LoadProgress): void;
  progressIntervalMs?: number;
  /** Stops sending (and the drain) early; the report says `interrupted`. */
  signal?: AbortSignal;
  log?: PublishLog;
}

function abortable(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return sleep(Math.max(0, ms), undefined, signal ? { signal } : {}).catch(() => undefined);
}

/**
 * Runs a load test: sends each owner's events on the schedule (the routing key in baggage, as
 * `publish` does), reads the system's trail records to learn where and when each event's work ran,
 * waits for the stragglers up to the drain timeout, and reports. It always ends: after the schedule,
 * the drain and a short settle, or when `signal` aborts.
 */
export async function runLoad(options: LoadRunOptions): Promise<LoadReport> {
  const { owners, schedule, sender, topic, signal, log } = options;
  const runId = randomUUID().slice(0, 8);
  const prefix = `${options.idPrefix}-${runId}-`;
  const tracker = new LoadTracker(owners, prefix, schedule.size * owners.length);
  const sendLag = new LatencyRecorder();
  const startedAt = Date.now();

  let backlog: Backlog | null = null;
  if (options.inspector) {
    backlog = await options.inspector.backlog(owners);
    const warning = backlogWarning(backlog);
    if (warning) options.onWarning?.(warning);
    for (const error of backlog.errors) log?.warn({ err: error }, 'load: could not check for waiting work');
  }

  // Reading first, so no record of this run's events can be missed.
  let lastRecordAt: number | null = null;
  const subscription = await options.subscribe((record) => {
    lastRecordAt = Date.now();
    tracker.onRecord(record);
  });
  const contexts = owners.map((owner) =>
    owner.routingKey === null ? context.active() : contextWithRoutingKey(context.active(), owner.routingKey),
  );
  const inFlight = new Set<Promise<void>>();
  let sendError: Error | undefined;
  let firstSentAt: number | null = null;
  /** Sends being retried now: one warning when Kafka stops answering, one line when it answers again. */
  let retrying = 0;
  let retried = 0;
  const send = (owner: number, from: number, to: number, dueAt: number) => {
    const ids: string[] = [];
    const events = [];
    for (let seq = from; seq < to; seq++) {
      const id = `${prefix}${owner}-${seq + 1}`;
      ids.push(id);
      events.push(createEvent(options.eventType, options.payload({ seq: seq + 1, id }), id));
    }
    const sentAt = Date.now();
    sendLag.record(Math.max(0, sentAt - dueAt));
    tracker.noteSending(ids, owner, sentAt);
    // The key goes into `baggage` explicitly (the instrumentation, when loaded, adds `traceparent`).
    const messages = toMessages(events, owners[owner]?.routingKey ? { sendContext: contexts[owner] } : {});
    let isRetrying = false;
    const attempt = () =>
      context.with(contexts[owner] ?? context.active(), () => sender.send(topic, messages));
    const sending = retryFor(
      options.sendRetryTimeoutMs ?? 0,
      attempt,
      (error) => {
        tracker.noteRetrying(ids);
        if (isRetrying) return;
        isRetrying = true;
        retried += ids.length;
        if (retrying++ === 0) {
          log?.warn(
            { topic, err: (error as Error).message, retryForMs: options.sendRetryTimeoutMs },
            'load: sending failed; retrying (these events go out late, their latency counts from the first attempt)',
          );
        }
      },
      signal,
    )
      .then(
        () => {
          firstSentAt ??= Date.now();
          tracker.noteAcked(ids);
        },
        (error: Error) => {
          tracker.noteSendFailed(ids);
          sendError ??= error;
          log?.warn({ topic, events: ids.length, err: error.message }, 'load: send failed');
        },
      )
      .finally(() => {
        inFlight.delete(sending);
        if (isRetrying && --retrying === 0) {
          log?.info({ topic, retried }, 'load: sends go through again');
          retried = 0;
        }
      });
    inFlight.add(sending);
  };

  const progressEvery = options.progressIntervalMs ?? 1000;
  let lastProgress = 0;
  const sendStart = Date.now();
  const clockStart = performance.now();
  const report = (phase: LoadProgress['phase']) => {
    const now = performance.now();
    if (!options.onProgress || now - lastProgress < progressEvery) return;
    lastProgress = now;
    const live = tracker.live();
    const hint = stallHint({
      now: Date.now(),
      firstSentAt,
      lastCompletionAt: tracker.lastCompletionAt,
      lastRecordAt,
      overall: live.overall,
      resultsTopic: options.resultsTopic ?? 'the results topic',
      backlog,
    });
    options.onProgress({
      elapsedMs: now - clockStart,
      phase,
      owners: owners.map((o, i) => ({ name: o.name, counts: live.owners[i] as LiveCounts })),
      overall: live.overall,
      ...(hint ? { hint } : {}),
    });
  };

  // Sending: every owner's events due by now go out, at most MAX_BATCH per send, on a fixed
  // schedule (a slow send does not push the later ones back, it makes them go out together).
  let next = 0;
  while (next < schedule.size && !signal?.aborted) {
    report('sending');
    const elapsed = performance.now() - clockStart;
    const due = Math.min(schedule.dueBy(elapsed), next + MAX_BATCH);
    if (due > next) {
      const dueAt = sendStart + (schedule.dueMs[next] as number);
      for (let owner = 0; owner < owners.length; owner++) {
        while (inFlight.size >= MAX_SENDS_IN_FLIGHT * owners.length) await Promise.race(inFlight);
        send(owner, next, due, dueAt);
      }
      next = due;
    } else {
      const wait = (schedule.dueMs[next] as number) - elapsed;
      await abortable(Math.min(wait, progressEvery), signal);
    }
  }
  await Promise.allSettled([...inFlight]);
  const sendEnd = Date.now();

  // Draining: until every sent event has completed (or failed), or the deadline.
  const drainDeadline = performance.now() + options.drainTimeoutMs;
  while (tracker.pending() > 0 && performance.now() < drainDeadline && !signal?.aborted) {
    report('draining');
    await abortable(Math.min(200, drainDeadline - performance.now()), signal);
  }
  if (!signal?.aborted) await abortable(options.settleMs ?? DEFAULT_SETTLE_MS, signal);
  await subscription.stop();
  if (sendError && tracker.live().overall.sent === 0) {
    throw new Error(`no event could be sent to ${topic}: ${sendError.message}`, { cause: sendError });
  }

  // What has no outcome now is unfinished: ask Temporal whether it is running (late), closed, or
  // has no workflow at all, rather than calling it lost.
  let temporal: RunFacts['temporal'] = null;
  const unfinished = tracker.unfinishedEventIds();
  // Not when stopped by a signal: the user wants the report now.
  if (options.inspector && unfinished.length > 0 && !signal?.aborted) {
    try {
      const ids = unfinished.slice(0, MAX_DESCRIBED).map(workflowIdOfEvent);
      temporal = { states: await options.inspector.workflowStates(ids) };
    } catch (error) {
      temporal = { error: (error as Error).message };
      log?.warn(
        { err: (error as Error).message },
        'load: could not ask Temporal about the unfinished events',
      );
    }
  }
  return buildReport(
    tracker,
    {
      runId,
      idPrefix: prefix,
      startedAt,
      sendStart,
      sendEnd,
      finishedAt: Date.now(),
      interrupted: Boolean(signal?.aborted),
      topic,
      eventType: options.eventType,
      schedule,
      drainTimeoutMs: options.drainTimeoutMs,
      sendLag,
      backlog,
      temporal,
    },
    options.thresholds,
  );
}
