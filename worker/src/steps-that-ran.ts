/**
 * What an open workflow already did, read from its history and its description: the activities, local
 * activities and child workflows that ran (at least in part). A restart from the start runs each of them
 * again, so the teardown command shows them and, unless told otherwise, leaves such a workflow for a
 * human to decide.
 *
 * Other effects a workflow can have (signals to other workflows, Nexus operations) are not read.
 */
import {
  defaultPayloadConverter,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';

/**
 * A step of a workflow that already ran, at least in part: restarting the workflow from the start runs
 * it again (a confirmation is sent twice, a card charged twice).
 */
export interface StepThatRan {
  kind: 'activity' | 'local-activity' | 'child-workflow';
  /** The activity's or the child workflow's type. */
  type: string;
  /** The activity id, or the child's workflow id. */
  id: string;
  /**
   * `completed`; `failed` (it ended in a failure, time-out or cancellation after it may have started,
   * so part of its work may be done); `running` (an attempt started and has not ended: it may have done
   * its work, or be doing it).
   */
  outcome: 'completed' | 'failed' | 'running';
  /** When it ended or, while `running`, when its latest attempt started (ISO 8601). */
  at: string | null;
}

/**
 * What an open workflow waits for: `workflow-task` (a worker on its queue to run its code: everything
 * it scheduled has ended, or it was just signalled), `activity`, `child-workflow`, or `message-or-timer`
 * (a signal, an update or a timer; nothing of its own is pending).
 */
export type WorkflowWait = 'workflow-task' | 'activity' | 'child-workflow' | 'message-or-timer';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];
type Description = WorkflowExecutionDescription['raw'];
type PendingActivity = NonNullable<Description['pendingActivities']>[number];

/** The marker the SDK core records for a local activity's result (its `data` detail is JSON). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** A protobuf timestamp as ISO 8601; `seconds` is a Long from the server, a number from parsed JSON. */
function isoTime(timestamp: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null {
  if (!timestamp) return null;
  const ms = Number(String(timestamp.seconds ?? 0)) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** `activity_type` and `activity_id` of a local activity marker (as the SDK core writes them). */
function localActivityOf(event: HistoryEvent): { type: string; id: string } {
  const data = event.markerRecordedEventAttributes?.details?.data?.payloads?.[0];
  try {
    const parsed = data ? (defaultPayloadConverter.fromPayload(data) as Record<string, unknown>) : {};
    return {
      type: typeof parsed.activity_type === 'string' ? parsed.activity_type : 'unknown',
      id: String(parsed.activity_id ?? ''),
    };
  } catch {
    return { type: 'unknown', id: '' };
  }
}

/** The pending activity's latest attempt started (or an earlier one ran and failed): it may have run. */
function pendingActivityRan(pending: PendingActivity): boolean {
  return pending.lastStartedTime != null || (pending.attempt ?? 1) > 1;
}

/**
 * The steps of a run that ran, in the order the workflow scheduled them. `pendingActivities` (from a
 * describe) tells whether a scheduled activity without a result has started: an activity that retries
 * writes its started event only when it ends.
 */
export function stepsThatRan(
  events: readonly HistoryEvent[],
  pendingActivities: readonly PendingActivity[] = [],
): StepThatRan[] {
  const steps = new Map<string, StepThatRan>();
  /** Scheduled activities and initiated children by event id, until they run. */
  const scheduled = new Map<string, { kind: 'activity' | 'child-workflow'; type: string; id: string }>();
  const set = (eventId: unknown, outcome: StepThatRan['outcome'], event: HistoryEvent): void => {
    const key = String(eventId);
    const step = scheduled.get(key);
    if (step) steps.set(key, { ...step, outcome, at: isoTime(event.eventTime) });
  };
  for (const event of events) {
    const key = String(event.eventId);
    const activity = event.activityTaskScheduledEventAttributes;
    const child = event.startChildWorkflowExecutionInitiatedEventAttributes;
    if (activity) {
      scheduled.set(key, {
        kind: 'activity',
        type: activity.activityType?.name ?? 'unknown',
        id: activity.activityId ?? '',
      });
    } else if (child) {
      scheduled.set(key, {
        kind: 'child-workflow',
        type: child.workflowType?.name ?? 'unknown',
        id: child.workflowId ?? '',
      });
    } else if (event.activityTaskCompletedEventAttributes) {
      set(event.activityTaskCompletedEventAttributes.scheduledEventId, 'completed', event);
    } else if (event.activityTaskFailedEventAttributes) {
      set(event.activityTaskFailedEventAttributes.scheduledEventId, 'failed', event);
    } else if (event.activityTaskTimedOutEventAttributes) {
      // Counted although a schedule-to-start time-out never ran: the history cannot always tell
      // whether an earlier attempt ran, and holding a workflow back is the safe mistake.
      set(event.activityTaskTimedOutEventAttributes.scheduledEventId, 'failed', event);
    } else if (event.activityTaskCanceledEventAttributes) {
      const canceled = event.activityTaskCanceledEventAttributes;
      if (String(canceled.startedEventId ?? 0) !== '0') set(canceled.scheduledEventId, 'failed', event);
    } else if (event.childWorkflowExecutionStartedEventAttributes) {
      set(event.childWorkflowExecutionStartedEventAttributes.initiatedEventId, 'running', event);
    } else if (event.childWorkflowExecutionCompletedEventAttributes) {
      set(event.childWorkflowExecutionCompletedEventAttributes.initiatedEventId, 'completed', event);
    } else {
      const childEnded =
        event.childWorkflowExecutionFailedEventAttributes ??
        event.childWorkflowExecutionTimedOutEventAttributes ??
        event.childWorkflowExecutionCanceledEventAttributes ??
        event.childWorkflowExecutionTerminatedEventAttributes;
      if (childEnded) set(childEnded.initiatedEventId, 'failed', event);
      const marker = event.markerRecordedEventAttributes;
      if (marker?.markerName === LOCAL_ACTIVITY_MARKER) {
        steps.set(key, {
          kind: 'local-activity',
          ...localActivityOf(event),
          outcome: marker.failure ? 'failed' : 'completed',
          at: isoTime(event.eventTime),
        });
      }
    }
  }
  // Scheduled activities without a result: running if an attempt started.
  const pendingById = new Map(pendingActivities.map((p) => [p.activityId ?? '', p]));
  for (const [key, step] of scheduled) {
    if (steps.has(key) || step.kind !== 'activity') continue;
    const pending = pendingById.get(step.id);
    if (pending && pendingActivityRan(pending)) {
      steps.set(key, {
        ...step,
        outcome: 'running',
        at: isoTime(pending.lastStartedTime ?? pending.lastAttemptCompleteTime),
      });
    }
  }
  return [...steps.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([, step]) => step);
}

/** What the run waits for, from its description. */
export function workflowWait(description: Description): WorkflowWait {
  if (description.pendingWorkflowTask) return 'workflow-task';
  if (description.pendingActivities?.length) return 'activity';
  if (description.pendingChildren?.length) return 'child-workflow';
  return 'message-or-timer';
}
