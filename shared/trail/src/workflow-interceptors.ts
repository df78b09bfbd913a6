/**
 * Workflow interceptor of the trail: reports each run's start and end to the worker through a sink
 * (`proxySinks`), which publishes them as trail records. Runs inside Temporal's workflow sandbox;
 * register it with `workflowModules` (`trailWorkerOptions` does) *before* the routing interceptors,
 * so that it is the outermost and sees the first-task redirect's continue-as-new.
 *
 * It adds no command, timer, marker, header or memo: histories are byte for byte what they would be
 * without it, and replays are unaffected. Sink calls made while replaying history are dropped by
 * the SDK (`callDuringReplay: false`), so a run evicted from the cache and rebuilt does not report
 * its start again; a retried workflow task may (readers de-duplicate by run id and kind).
 */

import { routingKeyFromTemporalHeaders } from '@sandbox-routing/temporal/workflow';
import {
  ContinueAsNew,
  isCancellation,
  type Next,
  proxySinks,
  TemporalFailure,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  workflowInfo,
} from '@temporalio/workflow';
import { trailError } from './record';
import { TRAIL_SINK, type TrailSinks, type WorkflowCloseFields } from './sinks';

const MAX_EVENT_ID_LENGTH = 200;

function shortString(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_EVENT_ID_LENGTH ? value : null;
}

/**
 * The event a run works on: the `id` of its first argument when that is a pipeline event (how the
 * ingress and the console start workflows), else a memo `eventId`, else null.
 */
export function eventIdOf(args: readonly unknown[], memo: Readonly<Record<string, unknown>> | undefined) {
  const first = args[0];
  const fromArgs =
    typeof first === 'object' && first !== null ? shortString((first as { id?: unknown }).id) : null;
  return fromArgs ?? shortString(memo?.eventId);
}

/** How a run's `execute` ended, in record terms. */
function closeOf(error: unknown): Pick<WorkflowCloseFields, 'kind' | 'nextTaskQueue' | 'error'> {
  if (error instanceof ContinueAsNew) {
    return {
      kind: 'workflow.continued-as-new',
      nextTaskQueue: error.command.taskQueue || workflowInfo().taskQueue,
      error: null,
    };
  }
  if (isCancellation(error)) return { kind: 'workflow.cancelled', nextTaskQueue: null, error: null };
  // A TemporalFailure fails the run; anything else fails only this workflow task, which is retried.
  const kind = error instanceof TemporalFailure ? 'workflow.failed' : 'workflow.task-failed';
  return { kind, nextTaskQueue: null, error: trailError(error) };
}

class TrailWorkflowInterceptor implements WorkflowInboundCallsInterceptor {
  private readonly sink = proxySinks<TrailSinks>()[TRAIL_SINK];

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    const fields = {
      eventId: eventIdOf(input.args, workflowInfo().memo),
      routingKey: routingKeyFromTemporalHeaders(input.headers)?.key ?? null,
    };
    this.sink.workflowStarted(fields);
    try {
      const result = await next(input);
      this.sink.workflowClosed({ ...fields, kind: 'workflow.completed', nextTaskQueue: null, error: null });
      return result;
    } catch (error) {
      this.sink.workflowClosed({ ...fields, ...closeOf(error) });
      throw error;
    }
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new TrailWorkflowInterceptor()],
});
