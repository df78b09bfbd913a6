/*
 * The sink through which the trail's workflow interceptor reports from inside Temporal's workflow
 * sandbox to the worker's main thread. Workflow-sandbox safe: types only.
 */
import type { Sinks } from '@temporalio/workflow';
import type { TrailError, WorkflowCloseKind } from './record';

/** Name of the sink under `WorkerOptions.sinks`. */
export const TRAIL_SINK = 'sandboxRoutingTrail';

/** What the workflow side knows that `WorkflowInfo` does not. */
export interface WorkflowTrailFields {
  eventId: string | null;
  routingKey: string | null;
}

export interface WorkflowCloseFields extends WorkflowTrailFields {
  kind: WorkflowCloseKind | 'workflow.task-failed';
  nextTaskQueue: string | null;
  error: TrailError | null;
}

export interface TrailSinks extends Sinks {
  [TRAIL_SINK]: {
    workflowStarted(fields: WorkflowTrailFields): void;
    workflowClosed(fields: WorkflowCloseFields): void;
  };
}
