import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SerializableSpan } from '@temporalio/interceptors-opentelemetry';
import type { WorkflowInfo } from '@temporalio/workflow';
import { readableWorkflowSpan, workflowSpanSink } from '../tracing';
import { untimed } from '../workflow-tracing';

/** A span as the workflow sandbox sends it through the `exporter` sink (OpenTelemetry SDK 1.x shape). */
const fromSandbox: SerializableSpan = {
  name: 'RunWorkflow:processOrder',
  kind: SpanKind.INTERNAL,
  spanContext: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 },
  parentSpanId: '00f067aa0ba902b7',
  startTime: [1_700_000_000, 5],
  endTime: [1_700_000_001, 5],
  status: { code: SpanStatusCode.OK },
  attributes: { 'sandbox_routing.routing_key': 'k7x2m9p4q1w8z' },
  links: [],
  events: [{ name: 'e', time: [1_700_000_000, 9], attributes: {} }],
  duration: [1, 0],
  ended: true,
  droppedAttributesCount: 0,
  droppedEventsCount: 0,
  droppedLinksCount: 0,
  instrumentationLibrary: { name: '@temporalio/interceptor-workflow', version: undefined },
};
const info = {
  workflowId: 'evt-1',
  runId: 'run-1',
  workflowType: 'processOrder',
  taskQueue: 'orders',
} as WorkflowInfo;
const resource = resourceFromAttributes({ 'service.name': 'worker' });

describe('workflow spans leave through the process span processor (OpenTelemetry SDK 2.x)', () => {
  it('reads as a 2.x span: parent context, instrumentation scope, the workflow ids, this resource', () => {
    const span = readableWorkflowSpan(fromSandbox, info, resource);
    assert.deepEqual(span.parentSpanContext, {
      traceId: fromSandbox.spanContext.traceId,
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    });
    assert.equal(span.instrumentationScope.name, '@temporalio/interceptor-workflow');
    assert.equal(span.resource, resource);
    assert.deepEqual(span.attributes, {
      'sandbox_routing.routing_key': 'k7x2m9p4q1w8z',
      temporalWorkflowId: 'evt-1',
      run_id: 'run-1',
      temporalWorkflowType: 'processOrder',
      temporalTaskQueue: 'orders',
    });
    assert.equal(
      readableWorkflowSpan({ ...fromSandbox, parentSpanId: undefined }, info, resource).parentSpanContext,
      undefined,
    );
  });

  it('serialises to OTLP as the exporter sends it, with its parent', () => {
    const exported = new InMemorySpanExporter();
    const sink = workflowSpanSink({ spanProcessor: new SimpleSpanProcessor(exported), resource });
    sink.exporter.export.fn(info, [fromSandbox]);
    const [span] = exported.getFinishedSpans();
    assert.ok(span);
    const body = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest([span]))) as {
      resourceSpans: {
        scopeSpans: { scope: { name: string }; spans: { parentSpanId: string; name: string }[] }[];
      }[];
    };
    const scope = body.resourceSpans[0]?.scopeSpans[0];
    assert.equal(scope?.scope.name, '@temporalio/interceptor-workflow');
    assert.equal(scope?.spans[0]?.name, 'RunWorkflow:processOrder');
    assert.equal(scope?.spans[0]?.parentSpanId, '00f067aa0ba902b7');
  });
});

describe('untimed: what the workflow awaits is what next returned, not the interceptor promise', () => {
  it('returns the value of next when the interceptor calls it synchronously', async () => {
    const inner = Promise.resolve('activity result');
    const result = untimed(
      async (next: (input: string) => Promise<string>) => {
        const value = await next('input');
        return `wrapped ${value}`;
      },
      () => inner,
    );
    assert.equal(result, inner);
    assert.equal(await result, 'activity result');
  });

  it("observes the interceptor's own rejection (the caller sees the real one)", async () => {
    const failure = new Error('activity failed');
    const inner = Promise.reject(failure);
    inner.catch(() => undefined);
    let outer: Promise<string> | undefined;
    const result = untimed(
      (next: (input: string) => Promise<string>) => {
        outer = (async () => next('input'))();
        return outer;
      },
      () => inner,
    );
    await assert.rejects(result, failure);
    // No unhandled rejection: untimed attached a handler to the interceptor's promise.
    await assert.rejects(outer as Promise<string>, failure);
  });

  it("falls back to the interceptor's promise when it calls next later", async () => {
    const result = untimed(
      async (next: (input: string) => Promise<string>) => {
        await Promise.resolve();
        return next('input');
      },
      async () => 'late',
    );
    assert.ok(result instanceof Promise);
    assert.equal(await result, 'late');
  });
});
