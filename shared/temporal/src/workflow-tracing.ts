/**
 * Temporal's OpenTelemetry workflow interceptors (`@temporalio/interceptors-opentelemetry`), with
 * workflow timing left exactly as it is without them. Runs inside Temporal's workflow sandbox; list
 * it first in `workflowModules` (`tracingWorkerOptions` does).
 *
 * Why not register Temporal's module directly: its interceptor methods are `async` functions that
 * return `await instrument(…)`, so every promise the workflow awaits through them (an activity's
 * result, a child's start, `execute` itself, an update handler's result) settles a few microtasks
 * later than without them. Within one activation that can change the order of commands: an update
 * that completes in the same activation as a workflow that goes on to schedule an activity answers
 * *after* the activity is scheduled with the interceptors, *before* without. A run recorded without
 * tracing then fails to replay with tracing ("Nondeterminism error: Activity machine does not handle
 * this event: WorkflowExecutionUpdateCompleted"); the recorded redirect histories with updates do.
 * temporalio/sdk-typescript#1835 warns that adding interceptors can break replay of old histories
 * for this reason.
 *
 * So each call goes through Temporal's interceptor, which makes its span and writes `_tracer-data`,
 * and calls `next` synchronously (SDK ≥ 1.13.2, flag `OpenTelemetryInterceporsAvoidsExtraYields`);
 * the workflow gets back what `next` returned, not the interceptor's wrapper promise. Commands, their
 * order and the workflow's timing are what they are without tracing; spans still end when the work
 * does. When an interceptor does not call `next` synchronously (a history written by an SDK older
 * than 1.13.2, for which it must re-create old yields), its own promise is returned, as Temporal's
 * module would.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type {
  ActivityInput,
  ContinueAsNewInput,
  DisposeInput,
  GetLogAttributesInput,
  GetMetricTagsInput,
  LocalActivityInput,
  Next,
  QueryInput,
  SignalInput,
  SignalWorkflowInput,
  StartChildWorkflowExecutionInput,
  UpdateInput,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/**
 * Calls `traced` with a `next` that records what the real `next` returns, and returns that value
 * when it was called synchronously (else `traced`'s own result). `traced`'s promise settles like the
 * real one (it awaits it and rethrows its error); it is observed so it never counts as unhandled.
 */
export function untimed<I, R>(traced: (next: (input: I) => R) => R, next: (input: I) => R): R {
  let inner: { value: R } | undefined;
  const outer = traced((input) => {
    const value = next(input);
    inner ??= { value };
    return value;
  });
  if (inner === undefined) return outer;
  if (outer instanceof Promise && outer !== inner.value) outer.catch(() => undefined);
  return inner.value;
}

type InboundNext<K extends keyof WorkflowInboundCallsInterceptor> = Next<WorkflowInboundCallsInterceptor, K>;
type OutboundNext<K extends keyof WorkflowOutboundCallsInterceptor> = Next<
  WorkflowOutboundCallsInterceptor,
  K
>;

class UntimedTracingInbound implements WorkflowInboundCallsInterceptor {
  private readonly traced = new OpenTelemetryInboundInterceptor();

  execute(input: WorkflowExecuteInput, next: InboundNext<'execute'>) {
    return untimed((n) => this.traced.execute(input, n), next);
  }

  handleSignal(input: SignalInput, next: InboundNext<'handleSignal'>) {
    return untimed((n) => this.traced.handleSignal(input, n), next);
  }

  handleUpdate(input: UpdateInput, next: InboundNext<'handleUpdate'>) {
    return untimed((n) => this.traced.handleUpdate(input, n), next);
  }

  validateUpdate(input: UpdateInput, next: InboundNext<'validateUpdate'>): void {
    this.traced.validateUpdate(input, next);
  }

  handleQuery(input: QueryInput, next: InboundNext<'handleQuery'>) {
    return untimed((n) => this.traced.handleQuery(input, n), next);
  }
}

class UntimedTracingOutbound implements WorkflowOutboundCallsInterceptor {
  private readonly traced = new OpenTelemetryOutboundInterceptor();

  scheduleActivity(input: ActivityInput, next: OutboundNext<'scheduleActivity'>) {
    return untimed((n) => this.traced.scheduleActivity(input, n), next);
  }

  scheduleLocalActivity(input: LocalActivityInput, next: OutboundNext<'scheduleLocalActivity'>) {
    return untimed((n) => this.traced.scheduleLocalActivity(input, n), next);
  }

  startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: OutboundNext<'startChildWorkflowExecution'>,
  ) {
    return untimed((n) => this.traced.startChildWorkflowExecution(input, n), next);
  }

  continueAsNew(input: ContinueAsNewInput, next: OutboundNext<'continueAsNew'>) {
    return untimed((n) => this.traced.continueAsNew(input, n), next);
  }

  signalWorkflow(input: SignalWorkflowInput, next: OutboundNext<'signalWorkflow'>) {
    return untimed((n) => this.traced.signalWorkflow(input, n), next);
  }

  getLogAttributes(input: GetLogAttributesInput, next: OutboundNext<'getLogAttributes'>) {
    return this.traced.getLogAttributes(input, next);
  }

  getMetricTags(input: GetMetricTagsInput, next: OutboundNext<'getMetricTags'>) {
    return this.traced.getMetricTags(input, next);
  }
}

class TracingInternals implements WorkflowInternalsInterceptor {
  private readonly traced = new OpenTelemetryInternalsInterceptor();

  dispose(input: DisposeInput, next: Next<WorkflowInternalsInterceptor, 'dispose'>): void {
    // Temporal's `dispose` is async in signature only: it disables its context manager synchronously.
    void this.traced.dispose(input, () => undefined);
    next(input);
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new UntimedTracingInbound()],
  outbound: [new UntimedTracingOutbound()],
  internals: [new TracingInternals()],
});
