/**
 * Builds the worker's workflow bundle ahead of time: `node worker/dist/build-workflow-bundle.js
 * [output]` (default `worker/dist/bundle/workflows.js`). The Dockerfile runs it right after compiling,
 * in the same stage, so the bundle is always the image's own workflow code; the worker then loads it
 * when `WORKER_WORKFLOW_BUNDLE` names it (the image sets that) instead of bundling at every start.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildWorkflowBundle } from './workflow-bundle';

/** Where the bundle goes unless told otherwise; a folder of its own, next to the compiled worker. */
export const DEFAULT_BUNDLE_PATH = path.join(__dirname, 'bundle', 'workflows.js');

async function main(output: string): Promise<void> {
  const started = performance.now();
  const { code } = await buildWorkflowBundle();
  mkdirSync(path.dirname(output), { recursive: true });
  writeFileSync(output, code);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`workflow bundle: ${output} (${(code.length / 1024 / 1024).toFixed(1)} MiB, ${seconds} s)`);
}

if (require.main === module) {
  main(path.resolve(process.argv[2] ?? DEFAULT_BUNDLE_PATH)).catch((error: unknown) => {
    console.error('building the workflow bundle failed:', error);
    process.exitCode = 1;
  });
}
