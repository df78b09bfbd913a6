import path from 'node:path';
import { type ProcessRun, type RunningProcess, runProcess, startProcess } from '@sandbox-routing/testkit';

/** The compiled CLI, as the Kubernetes Job runs it: with its --require entry (OpenTelemetry) first. */
export const CLI = path.resolve(__dirname, '../cli.js');
const INSTRUMENT = path.resolve(__dirname, '../instrument.js');
const NODE_ARGS = ['--require', INSTRUMENT, CLI];

export type CliRun = ProcessRun;
export type CliProcess = RunningProcess;

/** Starts `node producer/dist/cli.js <args>` with `env` on top of this process's environment. */
export function startCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): CliProcess {
  return startProcess(process.execPath, [...NODE_ARGS, ...args], {
    env: { LOG_LEVEL: 'warn', ...env },
    timeoutMs,
  });
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runProcess(process.execPath, [...NODE_ARGS, ...args], { env: { LOG_LEVEL: 'warn', ...env } });
}
