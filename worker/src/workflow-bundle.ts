import { ROUTING_WORKFLOW_INTERCEPTORS, TRACING_WORKFLOW_INTERCEPTORS } from '@sandbox-routing/temporal';
import { TRAIL_SINK, TRAIL_WORKFLOW_INTERCEPTORS } from '@sandbox-routing/trail';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';

/**
 * The worker's workflow code as one prebuilt bundle. Bundling (webpack) at start costs a fork seconds
 * of CPU and a few hundred MiB of memory every time a sandbox starts; the image builds the bundle once
 * (`build-workflow-bundle.js` in the Dockerfile) and the worker loads it through `workflowBundle` when
 * `WORKER_WORKFLOW_BUNDLE` names it. Without it (the dev path) the worker bundles at start as before.
 */

/** The workflow module the worker registers. */
export const WORKFLOWS_PATH = require.resolve('./workflows');

/**
 * The workflow interceptor modules baked into the bundle, in the order the worker registers them:
 * tracing first (outermost), then the trail (it sees the redirect's continue-as-new), then routing.
 * A prebuilt bundle ignores `interceptors.workflowModules`, so these must be what the worker's options
 * would list; {@link checkBundledInterceptors} refuses to start when they are not.
 */
export const BUNDLED_INTERCEPTOR_MODULES: readonly string[] = [
  TRACING_WORKFLOW_INTERCEPTORS,
  TRAIL_WORKFLOW_INTERCEPTORS,
  ROUTING_WORKFLOW_INTERCEPTORS,
];

/** Which optional workflow interceptors the worker's options register (routing always is). */
export interface BundledFeatures {
  trail: boolean;
  tracing: boolean;
}

/** Builds the bundle (what the worker would otherwise build at start). */
export async function buildWorkflowBundle(): Promise<{ code: string }> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: [...BUNDLED_INTERCEPTOR_MODULES],
  });
}

/** The prebuilt bundle does not carry the interceptors the worker's options ask for. */
export class WorkflowBundleMismatchError extends Error {
  override readonly name = 'WorkflowBundleMismatchError';
  readonly retriable = false;
}

/**
 * Checks that a prebuilt bundle carries exactly the workflow interceptor modules the worker's options
 * list (with the trail or tracing switched off, the bundle still carries its module: see
 * {@link silentSinks}).
 * @throws WorkflowBundleMismatchError naming both lists
 */
export function checkBundledInterceptors(
  workflowModules: readonly string[],
  features: BundledFeatures,
): void {
  const switchedOff = new Set([
    ...(features.tracing ? [] : [TRACING_WORKFLOW_INTERCEPTORS]),
    ...(features.trail ? [] : [TRAIL_WORKFLOW_INTERCEPTORS]),
  ]);
  const expected = BUNDLED_INTERCEPTOR_MODULES.filter((module) => !switchedOff.has(module));
  const same =
    workflowModules.length === expected.length &&
    workflowModules.every((module, i) => module === expected[i]);
  if (!same) {
    throw new WorkflowBundleMismatchError(
      `the prebuilt workflow bundle (WORKER_WORKFLOW_BUNDLE) carries the interceptors ${BUNDLED_INTERCEPTOR_MODULES.join(', ')} but the worker registers ${workflowModules.join(', ')}; rebuild it (node worker/dist/build-workflow-bundle.js) or unset WORKER_WORKFLOW_BUNDLE`,
    );
  }
}

/**
 * Sinks for the bundle's interceptors that the worker has switched off (the trail, tracing): their
 * reports then go nowhere, instead of a warning per call about an unregistered sink.
 */
export function silentSinks(features: BundledFeatures): WorkerOptions['sinks'] {
  const ignore = { fn: () => undefined, callDuringReplay: false };
  return {
    ...(features.trail ? {} : { [TRAIL_SINK]: { workflowStarted: ignore, workflowClosed: ignore } }),
    ...(features.tracing ? {} : { exporter: { export: ignore } }),
  };
}

/**
 * Worker options that load the prebuilt bundle at `codePath` instead of bundling `workflowsPath`.
 * @throws WorkflowBundleMismatchError when the bundle's interceptors are not the options' ones
 */
export function withPrebuiltBundle(
  options: WorkerOptions,
  codePath: string,
  features: BundledFeatures,
): WorkerOptions {
  checkBundledInterceptors(options.interceptors?.workflowModules ?? [], features);
  const { workflowsPath: _bundledInstead, ...rest } = options;
  return {
    ...rest,
    workflowBundle: { codePath },
    sinks: { ...options.sinks, ...silentSinks(features) },
    // The SDK warns about workflowModules next to a bundle; they are in the bundle (checked above).
    interceptors: { ...options.interceptors, workflowModules: [] },
  };
}
