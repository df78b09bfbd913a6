/**
 * The notifier's own step: for each order event it owns, a notification (here a log line; a real
 * service would send an e-mail or a push), and its `consumer.decided` trail record of every outcome, so
 * the console and the tests see which copy of the notifier handled each event.
 */
import type { DecideOnceOptions, FieldLogger, RecordOutcome } from '@sandbox-routing/kafka';
import { eventIdIn, parseEvent, workflowIdOfEvent } from '@sandbox-routing/sample';
import { TRAIL_RECORD_VERSION, type TrailEmitter } from '@sandbox-routing/trail';

/** Where notifications go: the sample's is the log. */
export type Notify = (notification: { eventId: string; type: string; text: string }) => Promise<void>;

export interface NotifierProcessingDeps {
  /** The workload, as the application declares it, and the baseline's group: they name the trail record. */
  workload: string;
  group: string;
  /** This instance (`baseline` or its sandbox's label), as trail records name who did it. */
  instance: string;
  maxEventBytes: number;
  notify: Notify;
  logger: FieldLogger;
  trail?: Pick<TrailEmitter, 'emit'>;
}

const TRAIL_ACTIONS = new Set(['processed', 'forwarded', 'dead-lettered']);

/** The notifier's step and trail, for the decide-once consumer. */
export function notifierProcessing(
  deps: NotifierProcessingDeps,
): Pick<DecideOnceOptions, 'process' | 'onOutcome' | 'tracerName' | 'recordNoun'> {
  return {
    tracerName: '@sandbox-routing/notifier',
    recordNoun: 'event',
    process: async (record) => {
      const parsed = parseEvent(record.value, deps.maxEventBytes);
      if (!parsed.ok) return { status: 'dead-letter', reason: parsed.reason, detail: parsed.detail };
      const { event } = parsed;
      try {
        await deps.notify({ eventId: event.id, type: event.type, text: `${event.type} ${event.id}` });
      } catch (error) {
        // The channel is away: try again later, nothing committed.
        return {
          status: 'retry',
          operation: 'notify',
          error: error instanceof Error ? error : new Error(String(error)),
        };
      }
      return { status: 'done', action: 'processed', fields: { eventId: event.id } };
    },
    onOutcome: (outcome) => recorded(deps, outcome),
  };
}

function recorded(deps: NotifierProcessingDeps, outcome: RecordOutcome): void {
  if (!deps.trail || !TRAIL_ACTIONS.has(outcome.action)) return;
  const { action, record, fields } = outcome;
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const eventId = text(fields.eventId) ?? eventIdIn(record.value);
  deps.trail.emit({
    version: TRAIL_RECORD_VERSION,
    kind: 'consumer.decided',
    time: new Date().toISOString(),
    eventId,
    routingKey: outcome.routingKey ?? null,
    instance: deps.instance,
    workload: deps.workload,
    group: deps.group,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    action: action as 'processed' | 'forwarded' | 'dead-lettered',
    owner: outcome.owner,
    workflowId: eventId === null ? null : workflowIdOfEvent(eventId),
    detail:
      action === 'forwarded' ? text(fields.topic) : action === 'dead-lettered' ? text(fields.reason) : null,
  });
}
