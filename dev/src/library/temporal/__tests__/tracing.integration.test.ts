import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ROUTING_ATTRIBUTES, runWithRoutingKey } from '@sandbox-routing/core';
import { RoutingClientInterceptor, tracingClientInterceptors } from '@sandbox-routing/temporal';
import { pollUntil, stackEnv } from '@sandbox-routing/testkit';
import type { StandInProcess } from '../../../routeserver/standin-process';
import { RoutingWorkers, standInWithSandbox, uniqueKey } from './routing-workers';

/**
 * Temporal's OpenTelemetry interceptors composed with routing, on real workers: one workflow that
 * runs an activity, a local activity and a child, signals another workflow and continues as new,
 * started on the shared queue with a sandbox's key (so its first run redirects), gives one trace in
 * which every step hangs under the one that caused it and says the routing key.
 */

const env = stackEnv();
const SANDBOX = 'sandbox-t';
const KEY = uniqueKey('t');

// This test process's OpenTelemetry: the W3C propagators and an in-memory exporter to read spans back.
const exported = new InMemorySpanExporter();
const spanProcessor = new SimpleSpanProcessor(exported);
const resource = resourceFromAttributes({ 'service.name': 'library-test' });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(
  new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
);
trace.setGlobalTracerProvider(new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] }));

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (span: ReadableSpan | undefined) => span?.parentSpanContext?.spanId;

describe('tracing through the routing interceptors (activity, local activity, child, signal, continue-as-new, redirect)', () => {
  let standIn: StandInProcess;
  let workers: RoutingWorkers;

  before(async () => {
    standIn = await standInWithSandbox(SANDBOX, KEY);
    workers = new RoutingWorkers(env.TEMPORAL_ADDRESS, standIn.url, SANDBOX, {
      telemetry: { spanProcessor, resource },
    });
    // No door routing: the workflow starts on the shared queue and its first task redirects it.
    await workers.start([...tracingClientInterceptors(), new RoutingClientInterceptor()]);
  });

  after(async () => {
    await workers?.stop();
    await standIn?.stop();
  });

  it('gives one trace, each step under the one that caused it, the routing key on every span', async () => {
    const id = randomUUID().slice(0, 8);
    const receiver = await workers.client.workflow.start('signalReceiver', {
      taskQueue: workers.sharedQueue,
      workflowId: `receiver-${id}`,
    });
    const workflowId = `probe-${id}`;
    await runWithRoutingKey(KEY, () =>
      workers.client.workflow.execute('routingProbe', {
        taskQueue: workers.sharedQueue,
        workflowId,
        args: [receiver.workflowId],
      }),
    );
    await receiver.result();

    // Workflow spans reach the exporter through a sink, after their workflow task: poll.
    const spans = await pollUntil(
      () => {
        const all = exported.getFinishedSpans();
        const runs = named(all, 'RunWorkflow:routingProbe');
        const child = named(all, 'RunWorkflow:childProbe');
        return runs.length === 3 && child.length === 1 && named(all, 'HandleSignal:record').length === 1
          ? all
          : undefined;
      },
      { description: 'the probe, its child and the signal to be traced', timeoutMs: 30_000 },
    );
    const [start] = named(spans, 'StartWorkflow:routingProbe');
    assert.ok(start);
    const traceId = start.spanContext().traceId;
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);

    // The first run (shared queue) redirects; the owner's run continues from its ContinueAsNew, runs
    // the steps and continues as new once more (on its own queue).
    const runs = named(inTrace, 'RunWorkflow:routingProbe').sort(
      (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
    );
    const [first, owner, next] = runs;
    const continues = named(inTrace, 'ContinueAsNew:routingProbe');
    assert.equal(runs.length, 3, 'three runs in the one trace');
    assert.equal(parentOf(first), start.spanContext().spanId);
    assert.equal(first?.attributes[ROUTING_ATTRIBUTES.decision], 'redirected');
    const redirect = continues.find((c) => parentOf(c) === first?.spanContext().spanId);
    assert.ok(redirect, 'the redirect is a ContinueAsNew of the first run');
    assert.equal(parentOf(owner), redirect.spanContext().spanId);
    assert.equal(owner?.attributes[ROUTING_ATTRIBUTES.instance], SANDBOX);
    const again = continues.find((c) => parentOf(c) === owner?.spanContext().spanId);
    assert.ok(again, "the probe's own continue-as-new");
    assert.equal(parentOf(next), again.spanContext().spanId);

    // Under the owner's run: its activity, its local activity, its child (and the child's activity), its signal.
    const under = (parent: ReadableSpan | undefined, name: string) =>
      named(inTrace, name).filter((s) => parentOf(s) === parent?.spanContext().spanId);
    const [scheduled] = under(owner, 'StartActivity:whereAmI');
    assert.ok(scheduled && under(scheduled, 'RunActivity:whereAmI').length === 1, 'the activity');
    const [childStart] = under(owner, 'StartChildWorkflow:childProbe');
    assert.ok(childStart, 'the child is started under the run');
    const [child] = under(childStart, 'RunWorkflow:childProbe');
    assert.ok(child, 'the child runs under its start');
    assert.equal(under(child, 'StartActivity:whereAmI').length, 1, "the child's activity");
    const [signal] = under(owner, 'SignalWorkflow:record');
    assert.ok(signal, 'the signal is sent under the run');
    assert.equal(parentOf(named(inTrace, 'HandleSignal:record')[0]), signal.spanContext().spanId);
    assert.ok(
      named(inTrace, 'StartActivity:whereAmI').length >= 3 &&
        named(inTrace, 'RunActivity:whereAmI').length >= 3,
    );

    for (const span of inTrace)
      assert.equal(span.attributes[ROUTING_ATTRIBUTES.routingKey], KEY, `${span.name} has the routing key`);
  });
});
