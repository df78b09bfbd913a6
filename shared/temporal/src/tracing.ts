/**
 * Temporal's OpenTelemetry interceptors (`@temporalio/interceptors-opentelemetry`), wired for
 * clients and workers so that one trace runs from a workflow's start through every activity,
 * child workflow and continue-as-new (a redirect included).
 *
 * Order, outermost first (each list runs first to last):
 * - client: OpenTelemetry, then routing. The `StartWorkflow` span is active while the routing
 *   interceptor places the workflow, so it carries the routing attributes, and its `_tracer-data`
 *   header is written before routing adds `sd-routing-key`.
 * - workflow: OpenTelemetry, then the trail, then routing. The `RunWorkflow` span is active for
 *   everything inside it, the first-task check included (its local activity becomes a child span
 *   and the redirect's continue-as-new a `ContinueAsNew` span whose context the owner's run
 *   continues from). Outbound, OpenTelemetry writes `_tracer-data` first; routing keeps it.
 * - activity: OpenTelemetry, then the trail, then routing. The `RunActivity` span covers the trail
 *   record and the routing check (which adds its decision to the span), and activity code runs in a
 *   context holding both the span and the routing key's baggage.
 *
 * Histories recorded without these interceptors replay unchanged with them: they emit no command,
 * only add the `_tracer-data` header to commands that already exist (headers are not compared on
 * replay), and the workflow-side module (`workflow-tracing.ts`) hands the workflow the promises it
 * would get without tracing, so no command moves within an activation. Registered as they ship,
 * Temporal's workflow interceptors delay those promises by a few microtasks, which reorders an
 * update's answer and an activity scheduled in the same activation (temporalio/sdk-typescript#1835
 * warns of this). The replay tests replay every recorded history with and without tracing.
 */
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  type OpenTelemetrySinks,
  OpenTelemetryWorkflowClientInterceptor,
  type SerializableSpan,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, ReplayWorkerOptions, WorkerOptions } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';

/**
 * Path of the workflow interceptor module with Temporal's OpenTelemetry interceptors
 * (`workflow-tracing.ts`), for `workflowModules` or `bundleWorkflowCode({ workflowInterceptorModules })`,
 * first in the list.
 */
export const TRACING_WORKFLOW_INTERCEPTORS = require.resolve('./workflow-tracing');

/** What the worker needs of a running OpenTelemetry SDK (`Telemetry` from `startTelemetry`). */
export interface TracingTelemetry {
  readonly spanProcessor: SpanProcessor;
  readonly resource: Resource;
}

/** The client interceptors to put first in `interceptors.workflow` of a `Client`. */
export function tracingClientInterceptors() {
  return [new OpenTelemetryWorkflowClientInterceptor()];
}

/**
 * A span made inside the workflow sandbox (where Temporal's interceptors use the OpenTelemetry SDK
 * 1.x shapes), as the 2.x span processor of this process reads it: `parentSpanContext` instead of
 * `parentSpanId`, `instrumentationScope` instead of `instrumentationLibrary`, and this process's
 * resource. The workflow's ids become attributes, as Temporal's own exporter does.
 */
export function readableWorkflowSpan(
  span: SerializableSpan,
  info: WorkflowInfo,
  resource: Resource,
): ReadableSpan {
  const { traceState: _serializedTraceState, ...context } = span.spanContext;
  // The trace state is dropped: nothing in this system writes one, and OTLP export keeps it only
  // for display.
  const spanContext = { ...context };
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => spanContext,
    parentSpanContext: span.parentSpanId
      ? { traceId: spanContext.traceId, spanId: span.parentSpanId, traceFlags: spanContext.traceFlags }
      : undefined,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: {
      ...span.attributes,
      temporalWorkflowId: info.workflowId,
      run_id: info.runId,
      temporalWorkflowType: info.workflowType,
      temporalTaskQueue: info.taskQueue,
    },
    links: span.links,
    events: span.events.map((event) => ({ ...event })),
    duration: span.duration,
    ended: span.ended,
    resource,
    instrumentationScope: {
      name: span.instrumentationLibrary.name,
      version: span.instrumentationLibrary.version,
      schemaUrl: span.instrumentationLibrary.schemaUrl,
    },
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/**
 * The `exporter` sink the workflow interceptors send their spans through. Not called during replay
 * (the sink's default), so a run rebuilt after cache eviction does not export its spans twice.
 */
export function workflowSpanSink(telemetry: TracingTelemetry): InjectedSinks<OpenTelemetrySinks> {
  return {
    exporter: {
      export: {
        fn: (info, spans) => {
          for (const span of spans)
            telemetry.spanProcessor.onEnd(readableWorkflowSpan(span, info, telemetry.resource));
        },
      },
    },
  };
}

/**
 * Worker options with Temporal's OpenTelemetry interceptors first (outermost) in the workflow and
 * activity lists, and their span sink. Apply it last, after `trailWorkerOptions`, before
 * `routingWorkerOptions` / `createRoutingWorker` (which append routing at the end):
 * ```ts
 * createRoutingWorker(tracingWorkerOptions(trailWorkerOptions(options, trail), telemetry), routing);
 * ```
 */
export function tracingWorkerOptions<T extends Omit<WorkerOptions, 'taskQueue'> | ReplayWorkerOptions>(
  options: T,
  telemetry: TracingTelemetry,
): T {
  const interceptors = options.interceptors ?? {};
  return {
    ...options,
    sinks: { ...options.sinks, ...workflowSpanSink(telemetry) },
    interceptors: {
      ...interceptors,
      workflowModules: [TRACING_WORKFLOW_INTERCEPTORS, ...(interceptors.workflowModules ?? [])],
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
        ...(interceptors.activity ?? []),
      ],
    },
  };
}
