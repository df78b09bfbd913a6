import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BASELINE_LABEL, ROUTING_ATTRIBUTES } from '@sandbox-routing/core';
import {
  awaitTrace,
  jaegerUrl,
  pollUntil,
  prometheusNamingProblems,
  stackEnv,
  type TraceSpan,
} from '@sandbox-routing/testkit';
import { runForeignClient, WorkerPair } from '../../clients/foreign-clients';
import { launchChromium } from '../../console/browser';
import { Pipeline } from '../../pipeline/pipeline';
import type { ServiceProcess } from '../../pipeline/service-process';
import { STACK_DIR } from '../../stack/paths';

/**
 * One trace per event, against the real stack and its Jaeger: the producer's send, the ingress's
 * consumption and workflow start, the worker's workflow run and every activity, all in the trace the
 * producer started, each span saying the routing key; and the worker's log lines say the key, the
 * owner and the trace id.
 */

const ACTIVITIES = ['reserveInventory', 'priceOrder', 'sendConfirmation'];
const KEY = ROUTING_ATTRIBUTES.routingKey;

const withOperation = (spans: TraceSpan[], operation: string) =>
  spans.filter((s) => s.operation === operation);
const services = (spans: TraceSpan[]) => [...new Set(spans.map((s) => s.service))].sort();

/**
 * The trace holds the worker's run, every activity's execution and the Python payments service's charge
 * (the last spans to arrive: each process exports in batches of its own).
 */
function workerDone(spans: TraceSpan[]): boolean {
  return (
    withOperation(spans, 'RunWorkflow:processOrder').length > 0 &&
    ACTIVITIES.every((a) => withOperation(spans, `RunActivity:${a}`).length > 0) &&
    spans.some((s) => s.service === 'payments')
  );
}

/** Log lines of a service (JSON, one per line) that match `filter`. */
function logLines(service: ServiceProcess, filter: (line: Record<string, unknown>) => boolean) {
  return readFileSync(service.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter(filter);
}

describe('tracing: one trace per event, from the producer to the last activity', () => {
  const id = randomUUID().slice(0, 8);
  const sandbox = { name: `tr-${id}`, key: `tr${id}xyzab` };
  /** A sandbox that forks the ingress too: the baseline ingress forwards its events to its topic. */
  const forked = { name: `tf-${id}`, key: `tf${id}xyzab` };
  let jaeger: string;
  let pipeline: Pipeline;
  let sandboxWorker: ServiceProcess;

  before(
    async () => {
      jaeger = jaegerUrl();
      pipeline = await Pipeline.isolated(stackEnv(), path.join(STACK_DIR, 'logs', `tracing-${id}`), {
        ROUTESERVER_REFRESH_INTERVAL_MS: '500',
      });
      await pipeline.registerSandbox(sandbox.name, sandbox.key, ['worker']);
      await pipeline.registerSandbox(forked.name, forked.key, ['ingress', 'worker']);
      const [, , fork] = await pipeline.startServices([
        { name: sandbox.name, forks: ['worker'] },
        { name: forked.name, forks: ['worker', 'ingress'] },
      ]);
      sandboxWorker = fork as ServiceProcess;
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await pipeline?.stop();
    await pipeline?.deleteSandbox(sandbox.name);
    await pipeline?.deleteSandbox(forked.name);
  });

  /** Publishes one event with `routingKey` and waits for its workflow to end: the event, its trace, where it ran. */
  async function publishOne(idPrefix: string, routingKey: string) {
    const summary = await pipeline.publish({ idPrefix: `${idPrefix}-${id}`, routingKey });
    const event = summary.events[0];
    assert.ok(event?.traceId, 'the producer reports the trace it started');
    const { ranOn } = await pipeline.outcome(event.id);
    return { id: event.id, traceId: event.traceId, ranOn };
  }

  it('an event for a sandbox: producer, ingress and worker spans in one trace, each with the routing key', {
    timeout: 120_000,
  }, async () => {
    const event = await publishOne('trace', sandbox.key);
    assert.equal(event.ranOn, sandbox.name);

    const spans = await awaitTrace(jaeger, event.traceId, workerDone);
    assert.ok(spans.every((s) => s.traceId === event.traceId));
    // The charge runs in the Python payments service: its spans join the same trace.
    assert.deepEqual(services(spans), ['ingress', 'payments', 'producer', 'worker']);

    const [send] = withOperation(spans, `send ${pipeline.topic}`);
    const [consume] = withOperation(spans, `process ${pipeline.topic}`);
    const [decide] = withOperation(spans, `decide ${pipeline.topic}`);
    const [start] = withOperation(spans, 'StartWorkflow:processOrder');
    const [run] = withOperation(spans, 'RunWorkflow:processOrder');
    assert.ok(
      send && consume && decide && start && run,
      `spans: ${spans.map((s) => s.operation).join(', ')}`,
    );
    assert.equal(send.service, 'producer');
    assert.equal(consume.service, 'ingress');
    assert.equal(decide.service, 'ingress');
    assert.equal(start.service, 'ingress');
    assert.equal(run.service, 'worker');

    // Parent links: producer → ingress consume → decide → start → run → each activity's schedule →
    // execution. The decide span outlives the delivery (records are handled in flight).
    assert.equal(consume.parentSpanId, send.spanId);
    assert.equal(decide.parentSpanId, consume.spanId);
    assert.equal(
      start.parentSpanId,
      decide.spanId,
      'the ingress starts the workflow while it decides the record',
    );
    assert.equal(run.parentSpanId, start.spanId);
    for (const activity of ACTIVITIES) {
      const [scheduled] = withOperation(spans, `StartActivity:${activity}`);
      const [executed] = withOperation(spans, `RunActivity:${activity}`);
      assert.ok(scheduled && executed, activity);
      assert.equal(scheduled.parentSpanId, run.spanId, `${activity} is scheduled by the run`);
      assert.equal(executed.parentSpanId, scheduled.spanId, `${activity} runs under its schedule`);
      assert.equal(executed.attributes[ROUTING_ATTRIBUTES.decision], 'owned');
      assert.equal(executed.attributes[ROUTING_ATTRIBUTES.instance], sandbox.name);
      assert.equal(executed.attributes[ROUTING_ATTRIBUTES.owner], sandbox.name);
    }

    for (const span of [
      send,
      consume,
      decide,
      start,
      run,
      // The Python payments service has no routing library (a fork needs only its queue): its spans carry
      // the trace, not the routing attributes.
      ...spans.filter((s) => s.operation.startsWith('RunActivity:') && s.service !== 'payments'),
    ])
      assert.equal(
        span.attributes[KEY],
        sandbox.key,
        `${span.service} ${span.operation} has the routing key`,
      );
    // The ingress owns the event (no fork of the ingress) and door-routes its workflow to the sandbox.
    assert.equal(decide.attributes[ROUTING_ATTRIBUTES.decision], 'owned');
    assert.equal(decide.attributes[ROUTING_ATTRIBUTES.owner], BASELINE_LABEL);
    assert.equal(decide.attributes[ROUTING_ATTRIBUTES.eventId], event.id);
    assert.equal(start.attributes[ROUTING_ATTRIBUTES.decision], 'door-routed');
    assert.equal(start.attributes[ROUTING_ATTRIBUTES.owner], sandbox.name);
    assert.equal(run.attributes[ROUTING_ATTRIBUTES.decision], 'placed');
    assert.equal(run.attributes[ROUTING_ATTRIBUTES.instance], sandbox.name);

    // What a person sees at the link the demo prints: the stack's trace view in Jaeger, one row per span.
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${jaeger}/trace/${event.traceId}`);
      await page
        .locator('table tbody tr')
        .nth(spans.length - 1)
        .waitFor();
      assert.equal(await page.locator('table tbody tr').count(), spans.length);
      const text = (await page.locator('table').textContent()) ?? '';
      for (const expected of [
        'RunWorkflow:processOrder',
        `worker (${sandbox.name})`,
        'decision placed',
        `routing_key ${sandbox.key}`,
      ])
        assert.ok(text.includes(expected), `the trace view shows "${expected}"`);
    } finally {
      await browser.close();
    }
  });

  it("a forwarded event: the baseline ingress's forward and the fork's ingress, workflow and activities in one trace", {
    timeout: 120_000,
  }, async () => {
    const event = await publishOne('fwd', forked.key);
    assert.equal(event.ranOn, forked.name);
    const spans = await awaitTrace(jaeger, event.traceId, workerDone);
    const [send] = withOperation(spans, `send ${pipeline.topic}`);
    const [forward] = withOperation(spans, `process ${pipeline.topic}`);
    const [forwardDecision] = withOperation(spans, `decide ${pipeline.topic}`);
    const [secondHop] = withOperation(spans, `process ${pipeline.sandboxTopic(forked.name)}`);
    const [secondDecision] = withOperation(spans, `decide ${pipeline.sandboxTopic(forked.name)}`);
    const [start] = withOperation(spans, 'StartWorkflow:processOrder');
    const [run] = withOperation(spans, 'RunWorkflow:processOrder');
    assert.ok(
      send && forward && forwardDecision && secondHop && secondDecision && start && run,
      spans.map((s) => s.operation).join(', '),
    );
    assert.equal(forwardDecision.parentSpanId, forward.spanId);
    assert.deepEqual(
      [
        forwardDecision.attributes[ROUTING_ATTRIBUTES.decision],
        forwardDecision.attributes[ROUTING_ATTRIBUTES.owner],
      ],
      ['forwarded', forked.name],
    );
    // The forward copies the record byte for byte, traceparent included: the fork's ingress continues
    // from the producer's span, in the same trace.
    assert.equal(forward.parentSpanId, send.spanId);
    assert.equal(secondHop.parentSpanId, send.spanId);
    assert.equal(secondDecision.parentSpanId, secondHop.spanId);
    assert.deepEqual(
      [secondDecision.attributes[ROUTING_ATTRIBUTES.decision], secondDecision.attributes[KEY]],
      ['owned', forked.key],
    );
    assert.equal(start.parentSpanId, secondDecision.spanId, "the fork's ingress starts the workflow");
    assert.equal(run.attributes[ROUTING_ATTRIBUTES.instance], forked.name);
  });

  /** Sends an event with kcat, its key in `baggage` and no `traceparent`, as a person does by hand; returns its id. */
  function sendByHand(routingKey: string): string {
    const eventId = `kcat-${id}-${randomUUID().slice(0, 8)}`;
    const value = JSON.stringify({
      id: eventId,
      type: 'order.created',
      time: new Date().toISOString(),
      payload: { orderId: eventId },
    });
    const broker = stackEnv().KAFKA_BROKERS.split(',')[0] as string;
    const sent = spawnSync(
      'kcat',
      ['-P', '-b', broker, '-t', pipeline.topic, '-H', `baggage=sd-routing-key=${routingKey}`],
      { input: `${value}\n`, encoding: 'utf8' },
    );
    assert.equal(sent.status, 0, sent.stderr);
    return eventId;
  }

  /** The trace of the decision for `eventId` on `topic` (the `decide` span of the ingress that starts it names the event). */
  function decisionTrace(eventId: string, topic = pipeline.topic): Promise<string> {
    return pollUntil(
      async () => {
        const tags = encodeURIComponent(JSON.stringify({ [ROUTING_ATTRIBUTES.eventId]: eventId }));
        const response = await fetch(
          `${jaeger}/api/traces?service=ingress&operation=${encodeURIComponent(`decide ${topic}`)}&tags=${tags}&lookback=1h&limit=5`,
        );
        const body = (await response.json()) as { data: { traceID: string }[] | null };
        return body.data?.[0]?.traceID;
      },
      { description: `the ingress's trace of ${eventId} in Jaeger`, timeoutMs: 30_000, intervalMs: 250 },
    );
  }

  const roots = (spans: TraceSpan[]) => spans.filter((s) => s.parentSpanId === undefined);

  it('an event sent by hand with a key and no traceparent: the ingress starts one trace that holds everything after it', {
    timeout: 120_000,
  }, async () => {
    const eventId = sendByHand(sandbox.key);
    assert.equal((await pipeline.outcome(eventId)).ranOn, sandbox.name);
    const spans = await awaitTrace(jaeger, await decisionTrace(eventId), workerDone);
    const [consume] = withOperation(spans, `process ${pipeline.topic}`);
    const [decide] = withOperation(spans, `decide ${pipeline.topic}`);
    const [start] = withOperation(spans, 'StartWorkflow:processOrder');
    const [run] = withOperation(spans, 'RunWorkflow:processOrder');
    assert.ok(consume && decide && start && run, `spans: ${spans.map((s) => s.operation).join(', ')}`);
    assert.deepEqual(roots(spans), [consume], "the ingress's consumption is the one root");
    assert.equal(decide.parentSpanId, consume.spanId);
    assert.equal(start.parentSpanId, decide.spanId);
    assert.equal(run.parentSpanId, start.spanId);
    assert.deepEqual(services(spans), ['ingress', 'payments', 'worker']);
  });

  it("an event sent by hand for a fork of the ingress: the forward gives it the baseline's trace, the fork continues it", {
    timeout: 120_000,
  }, async () => {
    const eventId = sendByHand(forked.key);
    assert.equal((await pipeline.outcome(eventId)).ranOn, forked.name);
    const spans = await awaitTrace(
      jaeger,
      await decisionTrace(eventId, pipeline.sandboxTopic(forked.name)),
      workerDone,
    );
    const [consume] = withOperation(spans, `process ${pipeline.topic}`);
    const [forwardDecision] = withOperation(spans, `decide ${pipeline.topic}`);
    const [secondHop] = withOperation(spans, `process ${pipeline.sandboxTopic(forked.name)}`);
    const [secondDecision] = withOperation(spans, `decide ${pipeline.sandboxTopic(forked.name)}`);
    const [run] = withOperation(spans, 'RunWorkflow:processOrder');
    assert.ok(
      consume && forwardDecision && secondHop && secondDecision && run,
      `spans: ${spans.map((s) => s.operation).join(', ')}`,
    );
    assert.deepEqual(roots(spans), [consume], "the baseline ingress's consumption is the one root");
    assert.equal(forwardDecision.attributes[ROUTING_ATTRIBUTES.decision], 'forwarded');
    assert.equal(
      secondHop.parentSpanId,
      forwardDecision.spanId,
      "the fork's consumption continues the forward",
    );
    assert.equal(secondDecision.parentSpanId, secondHop.spanId);
    assert.equal(run.attributes[ROUTING_ATTRIBUTES.instance], forked.name);
  });

  it("an activity's and a workflow's log lines on the sandbox carry the routing key, the owner and the trace id", {
    timeout: 120_000,
  }, async () => {
    const event = await publishOne('log', sandbox.key);
    // The activity logs through Temporal's activity logger into the worker's JSON log.
    const [line] = await pollUntil(
      () => {
        const lines = logLines(sandboxWorker, (l) => l.msg === 'order priced' && l.eventId === event.id);
        return lines.length > 0 ? lines : undefined;
      },
      { description: `the sandbox worker to log 'order priced' for ${event.id}`, timeoutMs: 10_000 },
    );
    assert.equal(line?.routingKey, sandbox.key);
    assert.equal(line?.owner, sandbox.name);
    assert.equal(line?.instance, sandbox.name);
    assert.equal(line?.trace_id, event.traceId);
    assert.match(String(line?.span_id), /^[0-9a-f]{16}$/);
    // And a line of the workflow's own code (Temporal's workflow logger, written through a sink).
    const [workflowLine] = await pollUntil(
      () => {
        const lines = logLines(sandboxWorker, (l) => l.msg === 'order fulfilled' && l.eventId === event.id);
        return lines.length > 0 ? lines : undefined;
      },
      { description: `the sandbox worker to log 'order fulfilled' for ${event.id}`, timeoutMs: 10_000 },
    );
    assert.deepEqual(
      [workflowLine?.routingKey, workflowLine?.owner, workflowLine?.trace_id, workflowLine?.sdkComponent],
      [sandbox.key, sandbox.name, event.traceId, 'workflow'],
    );
  });

  it('every metric the ingress and the workers expose follows the Prometheus naming conventions', async () => {
    // The Node services (the Python payments service exposes prometheus_client's own names, `payments_*`).
    for (const service of pipeline.services.filter((s) => !s.name.startsWith('payments-'))) {
      const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
      assert.match(text, /# TYPE sandbox_routing_/, `${service.name} exposes its own metrics`);
      assert.deepEqual(prometheusNamingProblems(text), [], service.name);
    }
  });
});

describe('tracing: a workflow started by the Python client (the redirect path)', () => {
  const env = stackEnv();
  let jaeger: string;
  let workers: WorkerPair;

  before(
    async () => {
      jaeger = jaegerUrl(env);
      workers = new WorkerPair(
        env.TEMPORAL_ADDRESS,
        env.SIGNADOT_ROUTESERVER_URL,
        env.SIGNADOT_ROUTESERVER_GRPC_ADDRESS,
        {
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: env.OTEL_EXPORTER_OTLP_ENDPOINT,
        },
      );
      await workers.start();
    },
    { timeout: 180_000 },
  );

  after(() => workers?.stop());

  it("one trace from the client's start through the first run, its redirect and the owner's run to the last activity", {
    timeout: 120_000,
  }, async () => {
    const [run] = await runForeignClient('python', env.TEMPORAL_ADDRESS, {
      taskQueue: workers.sharedQueue,
      key: workers.key,
      case: 'start',
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    });
    assert.ok(run?.traceId, 'the client reports its trace');
    assert.equal(run.result.workflow.instance, workers.sandbox);

    const spans = await awaitTrace(
      jaeger,
      run.traceId,
      (all) =>
        withOperation(all, 'StartWorkflow:processOrder').length > 0 &&
        withOperation(all, 'RunWorkflow:processOrder').length === 2 &&
        ACTIVITIES.every((a) => withOperation(all, `RunActivity:${a}`).length > 0),
    );
    assert.deepEqual(services(spans), ['payments', 'python-client', 'worker']);
    const [start] = withOperation(spans, 'StartWorkflow:processOrder');
    const runs = withOperation(spans, 'RunWorkflow:processOrder').sort((a, b) => a.startTime - b.startTime);
    const [first, owners] = runs;
    const [continued] = withOperation(spans, 'ContinueAsNew:processOrder');
    // The first route check is the redirect's (the first run's first task); later ones decide other
    // workloads' queues (the charge on the payments workload).
    const [check] = withOperation(spans, 'RunActivity:__sandboxRoutingResolveQueue').sort(
      (a, b) => a.startTime - b.startTime,
    );
    assert.ok(start && first && owners && continued && check, spans.map((s) => s.operation).join(', '));
    assert.equal(start.service, 'python-client');

    // The first run (on the shared queue, the baseline's) asks who owns the key and redirects.
    assert.equal(first.parentSpanId, start.spanId);
    assert.deepEqual(
      [first.attributes[ROUTING_ATTRIBUTES.instance], first.attributes[ROUTING_ATTRIBUTES.decision]],
      [BASELINE_LABEL, 'redirected'],
    );
    assert.equal(first.attributes[ROUTING_ATTRIBUTES.owner], workers.sandbox);
    assert.equal(check.attributes[ROUTING_ATTRIBUTES.decision], 'redirected');
    assert.equal(continued.parentSpanId, first.spanId);
    // The owner's run continues the trace from the continue-as-new.
    assert.equal(owners.parentSpanId, continued.spanId);
    assert.deepEqual(
      [owners.attributes[ROUTING_ATTRIBUTES.instance], owners.attributes[ROUTING_ATTRIBUTES.decision]],
      [workers.sandbox, 'placed'],
    );
    for (const activity of ACTIVITIES) {
      const [executed] = withOperation(spans, `RunActivity:${activity}`);
      assert.equal(executed?.attributes[ROUTING_ATTRIBUTES.instance], workers.sandbox, activity);
    }
    for (const span of spans.filter((s) => s.service === 'worker'))
      assert.equal(span.attributes[KEY], workers.key, `${span.operation} has the routing key`);
  });
});
