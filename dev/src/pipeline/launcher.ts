import path from 'node:path';
import { REPO_ROOT } from '../stack/paths';

/** A process to start: what `spawn` needs. */
export interface Launch {
  command: string;
  args: string[];
  cwd: string;
  /** The whole environment of the process. */
  env: NodeJS.ProcessEnv;
}

/**
 * How the harness starts a program of the repository, `node [--require <preload>] <entry> args…`
 * (paths relative to the repository root, e.g. `worker/dist/instrument.js`, `worker/dist/main.js`):
 * from the checkout by default, or from an image's runtime tree (the image check).
 */
export interface Launcher {
  launch(entry: string, args: readonly string[], env: NodeJS.ProcessEnv, preload?: string): Launch;
}

/** The checkout: this process's node and environment (less the test runner's), plus `env`. */
export const checkoutLauncher: Launcher = {
  launch(entry, args, env, preload) {
    // NODE_TEST_CONTEXT would make a child node process report to this test runner.
    const { NODE_TEST_CONTEXT: _testContext, ...inherited } = process.env;
    return {
      command: process.execPath,
      args: [
        ...(preload ? ['--require', path.join(REPO_ROOT, preload)] : []),
        path.join(REPO_ROOT, entry),
        ...args,
      ],
      cwd: REPO_ROOT,
      env: { ...inherited, ...env },
    };
  },
};
