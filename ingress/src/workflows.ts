import { type PipelineEvent, workflowIdOfEvent } from '@sandbox-routing/sample';

/** Which workflow handles which event type (the worker registers these workflow types). */
export const WORKFLOW_FOR_EVENT_TYPE: Readonly<Record<string, string>> = {
  'order.created': 'processOrder',
};

/**
 * The workflow id of an event (`evt-<event id>`, the one rule in shared's `workflowIdOfEvent`): a
 * redelivered message (a crash between start and commit, a replay from offset 0) finds its workflow
 * already started instead of starting a second one.
 */
export function workflowIdFor(event: PipelineEvent): string {
  return workflowIdOfEvent(event.id);
}
