import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ROUTING_WORKFLOW_INTERCEPTORS,
  type RouteTable,
  routingWorkerOptions,
  TRAIL_SINK,
  TRAIL_WORKFLOW_INTERCEPTORS,
  TrailEmitter,
  trailWorkerOptions,
} from '@sandbox-routing/shared';
import {
  BUNDLED_INTERCEPTOR_MODULES,
  checkBundledInterceptors,
  WORKFLOWS_PATH,
  WorkflowBundleMismatchError,
  withPrebuiltBundle,
} from '../workflow-bundle';

/** The worker's options as app.ts composes them (the route table is only called at run time). */
function composed(trail: boolean) {
  const base = { workflowsPath: WORKFLOWS_PATH, activities: {} };
  const emitter = new TrailEmitter({
    transport: { send: async () => undefined, close: async () => undefined },
  });
  const withTrail = trail ? trailWorkerOptions(base, { emitter, instance: 'baseline', worker: 'w' }) : base;
  return routingWorkerOptions(withTrail, {
    identity: { baseline: { kind: 'Deployment', namespace: 'local', name: 'worker' }, sandboxName: '' },
    routeTable: {} as RouteTable,
    sharedQueue: 'orders',
  });
}

describe('prebuilt workflow bundle', () => {
  it("bakes in exactly the interceptor modules the worker's options register, trail first", () => {
    assert.deepEqual(BUNDLED_INTERCEPTOR_MODULES, [
      TRAIL_WORKFLOW_INTERCEPTORS,
      ROUTING_WORKFLOW_INTERCEPTORS,
    ]);
    assert.deepEqual(composed(true).interceptors?.workflowModules, BUNDLED_INTERCEPTOR_MODULES);
    checkBundledInterceptors(composed(true).interceptors?.workflowModules ?? [], true);
    checkBundledInterceptors(composed(false).interceptors?.workflowModules ?? [], false);
  });

  it('refuses a bundle whose interceptors differ from the options', () => {
    assert.throws(
      () => checkBundledInterceptors([ROUTING_WORKFLOW_INTERCEPTORS, '/elsewhere/extra.js'], true),
      (error: unknown) =>
        error instanceof WorkflowBundleMismatchError &&
        /rebuild it|unset WORKER_WORKFLOW_BUNDLE/.test(error.message),
    );
    assert.throws(
      () => checkBundledInterceptors([ROUTING_WORKFLOW_INTERCEPTORS], true),
      WorkflowBundleMismatchError,
    );
  });

  it('loads the bundle instead of bundling, and silences the trail sink when the trail is off', () => {
    const on = withPrebuiltBundle(composed(true), '/app/worker/dist/bundle/workflows.js', true);
    assert.equal(on.workflowsPath, undefined);
    assert.deepEqual(on.workflowBundle, { codePath: '/app/worker/dist/bundle/workflows.js' });
    assert.deepEqual(on.interceptors?.workflowModules, []);
    assert.equal(on.taskQueue, 'orders');
    assert.ok(on.interceptors?.activity?.length, 'activity interceptors stay');
    const off = withPrebuiltBundle(composed(false), '/b.js', false);
    const sink = (off.sinks as Record<string, Record<string, { fn: () => void }>>)[TRAIL_SINK];
    assert.ok(sink?.workflowStarted && sink.workflowClosed, 'the trail sink is registered');
    assert.equal(sink.workflowStarted.fn(), undefined);
  });
});
