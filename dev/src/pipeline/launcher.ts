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
 * A Python service of the repository: `python -m <module>`, the module's package in `folder` (relative to
 * the repository root, e.g. `payments` holds the `payments` package of the payments service).
 */
export interface PythonProgram {
  folder: string;
  module: string;
}

/** The sample application's payments service (Python). */
export const PAYMENTS_PROGRAM: PythonProgram = { folder: 'payments', module: 'payments' };

/** The venv dev/bin/setup.sh makes: the payments service's pinned packages (and the tests' Python client). */
export const CHECKOUT_PYTHON = path.join(REPO_ROOT, '.tools', 'python', 'bin', 'python');

/**
 * How the harness starts a program of the repository, `node [--require <preload>] <entry> args…`
 * (paths relative to the repository root, e.g. `worker/dist/instrument.js`, `worker/dist/main.js`), or
 * a Python service (`launchPython`): from the checkout by default, or from an image's runtime tree (the
 * image check).
 */
export interface Launcher {
  launch(entry: string, args: readonly string[], env: NodeJS.ProcessEnv, preload?: string): Launch;
  launchPython(program: PythonProgram, args: readonly string[], env: NodeJS.ProcessEnv): Launch;
}

/** This process's environment less the test runner's: NODE_TEST_CONTEXT would make a child node process report to it. */
function inheritedEnv(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _testContext, ...inherited } = process.env;
  return inherited;
}

/** The checkout: this process's node (or the setup's Python venv) and environment (less the test runner's), plus `env`. */
export const checkoutLauncher: Launcher = {
  launch(entry, args, env, preload) {
    const inherited = inheritedEnv();
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
  launchPython(program, args, env) {
    return {
      command: CHECKOUT_PYTHON,
      args: ['-m', program.module, ...args],
      cwd: REPO_ROOT,
      env: { ...inheritedEnv(), PYTHONPATH: path.join(REPO_ROOT, program.folder), ...env },
    };
  },
};
