import type { Client, WorkflowHandle } from '@temporalio/client';

/** One run's history, as `fetchHistory` returns it, with its workflow id (what replay takes). */
export interface RecordedRun {
  workflowId: string;
  history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
}

/**
 * The histories of every run of `workflowId`, newest first, walking back through continue-as-new
 * (a redirected workflow's first run included), for replay tests.
 */
export async function runHistories(client: Client, workflowId: string): Promise<RecordedRun[]> {
  const runs: RecordedRun[] = [];
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push({ workflowId, history });
    runId =
      history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return runs;
}
