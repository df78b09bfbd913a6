import type { Client } from '@temporalio/client';

/** What the histories of a set of workflows say about retries. */
export interface HistoryStats {
  workflows: number;
  /** WorkflowTaskFailed and WorkflowTaskTimedOut events: what history shows. */
  workflowTaskFailures: number;
  /**
   * Workflow task attempts beyond the first: the `attempt` of each WorkflowTaskScheduled event less one.
   * A task that fails again and again shows one failure in history (later attempts are transient, and
   * the SDK reports only the first), but the attempt that finally ran carries the count.
   */
  extraWorkflowTaskAttempts: number;
  /** Attempts of every activity: the `attempt` of each ActivityTaskStarted event (its last one). */
  activityAttempts: number;
}

async function runsOf(client: Client, workflowId: string) {
  const histories = [];
  let runId: string | undefined;
  // The latest run first; a redirect's first run is the one it continued from.
  for (let hop = 0; hop < 5; hop++) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    histories.push(history);
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    runId = started?.continuedExecutionRunId || undefined;
    if (!runId) break;
  }
  return histories;
}

/** Reads every run's history of `workflowIds` (at most `concurrency` at once) and adds up the retries. */
export async function historyStats(
  client: Client,
  workflowIds: readonly string[],
  concurrency = 16,
): Promise<HistoryStats> {
  const stats: HistoryStats = {
    workflows: 0,
    workflowTaskFailures: 0,
    extraWorkflowTaskAttempts: 0,
    activityAttempts: 0,
  };
  let next = 0;
  const reader = async () => {
    while (next < workflowIds.length) {
      const id = workflowIds[next++] as string;
      let histories: Awaited<ReturnType<typeof runsOf>>;
      try {
        histories = await runsOf(client, id);
      } catch {
        continue; // never started (a failed start): nothing to count
      }
      stats.workflows++;
      for (const history of histories) {
        for (const event of history.events ?? []) {
          if (event.workflowTaskFailedEventAttributes || event.workflowTaskTimedOutEventAttributes) {
            stats.workflowTaskFailures++;
          }
          const scheduled = event.workflowTaskScheduledEventAttributes;
          if (scheduled) stats.extraWorkflowTaskAttempts += Math.max(0, (scheduled.attempt ?? 1) - 1);
          const activity = event.activityTaskStartedEventAttributes;
          if (activity) stats.activityAttempts += activity.attempt ?? 1;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, reader));
  return stats;
}
