import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteTable } from '@sandbox-routing/core';
import {
  ROUTING_WORKFLOW_INTERCEPTORS,
  routingWorkerOptions,
  TRACING_WORKFLOW_INTERCEPTORS,
  type TracingTelemetry,
  tracingWorkerOptions,
} from '@sandbox-routing/temporal';
import {
  TRAIL_SINK,
  TRAIL_WORKFLOW_INTERCEPTORS,
  TrailEmitter,
  trailWorkerOptions,
} from '@sandbox-routing/trail';

import {
  BUNDLED_INTERCEPTOR_MODULES,
  checkBundledInterceptors,
  WORKFLOWS_PATH,
  WorkflowBundleMismatchError,
  withPrebuiltBundle,
} from '../workflow-bundle';

/** Only kept in the span sink's closure, which these tests never call. */
const telemetry = {} as TracingTelemetry;

/** The worker's options as app.ts composes them (the route table is only called at run time). */
function composed(trail: boolean, tracing = true) {
  const base = { workflowsPath: WORKFLOWS_PATH, activities: {} };
  const emitter = new TrailEmitter({
    transport: { send: async () => undefined, close: async () => undefined },
  });
  const withTrail = trail ? trailWorkerOptions(base, { emitter, instance: 'baseline', worker: 'w' }) : base;
  return routingWorkerOptions(tracing ? tracingWorkerOptions(withTrail, telemetry) : withTrail, {
    identity: { baseline: { kind: 'Deployment', namespace: 'local', name: 'worker' }, sandboxName: '' },
    routeTable: {} as RouteTable,
    sharedQueue: 'orders',
  });
}

describe('prebuilt workflow bundle', () => {
  it("bakes in exactly the interceptor modules the worker's options register: tracing, trail, routing", () => {
    assert.deepEqual(BUNDLED_INTERCEPTOR_MODULES, [
      TRACING_WORKFLOW_INTERCEPTORS,
      TRAIL_WORKFLOW_INTERCEPTORS,
      ROUTING_WORKFLOW_INTERCEPTORS,
    ]);
    assert.deepEqual(composed(true).interceptors?.workflowModules, BUNDLED_INTERCEPTOR_MODULES);
    for (const trail of [true, false])
      for (const tracing of [true, false])
        checkBundledInterceptors(composed(trail, tracing).interceptors?.workflowModules ?? [], {
          trail,
          tracing,
        });
  });

  it('refuses a bundle whose interceptors differ from the options', () => {
    assert.throws(
      () =>
        checkBundledInterceptors([ROUTING_WORKFLOW_INTERCEPTORS, '/elsewhere/extra.js'], {
          trail: false,
          tracing: false,
        }),
      (error: unknown) =>
        error instanceof WorkflowBundleMismatchError &&
        /rebuild it|unset WORKER_WORKFLOW_BUNDLE/.test(error.message),
    );
    assert.throws(
      () => checkBundledInterceptors([ROUTING_WORKFLOW_INTERCEPTORS], { trail: true, tracing: false }),
      WorkflowBundleMismatchError,
    );
  });

  it('loads the bundle instead of bundling, and silences the sinks of what is switched off', () => {
    const on = withPrebuiltBundle(composed(true), '/app/worker/dist/bundle/workflows.js', {
      trail: true,
      tracing: true,
    });
    assert.equal(on.workflowsPath, undefined);
    assert.deepEqual(on.workflowBundle, { codePath: '/app/worker/dist/bundle/workflows.js' });
    assert.deepEqual(on.interceptors?.workflowModules, []);
    assert.equal(on.taskQueue, 'orders');
    assert.ok(on.interceptors?.activity?.length, 'activity interceptors stay');
    const off = withPrebuiltBundle(composed(false, false), '/b.js', { trail: false, tracing: false });
    const sinks = off.sinks as Record<string, Record<string, { fn: () => void }>>;
    const trailSink = sinks[TRAIL_SINK];
    assert.ok(trailSink?.workflowStarted && trailSink.workflowClosed, 'the trail sink is registered');
    assert.equal(trailSink.workflowStarted.fn(), undefined);
    assert.equal(sinks.exporter?.export?.fn(), undefined, 'the span exporter sink is registered');
  });
});
