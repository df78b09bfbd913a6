import path from 'node:path';
import { type ProcessRun, type RunningProcess, runProcess, startProcess } from '@sandbox-routing/testkit';

/** The `sandbox-routing` bin as npm installs it (node_modules/.bin), run the way a user runs it. */
export const CLI = path.resolve(__dirname, '../../../node_modules/.bin/sandbox-routing');

export type CliRun = ProcessRun;
export type CliProcess = RunningProcess;

/** Starts `sandbox-routing <args>` with `env` on top of this process's environment. */
export function startCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): CliProcess {
  return startProcess(CLI, args, {
    env: { LOG_LEVEL: 'warn', ...env },
    timeoutMs,
  });
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runProcess(CLI, args, { env: { LOG_LEVEL: 'warn', ...env } });
}
