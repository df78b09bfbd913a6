import { readFileSync } from 'node:fs';
import type { load } from '@sandbox-routing/producer';
import { type ProcessRun, runProcess, type StackEnv } from '@sandbox-routing/testkit';
import { checkoutLauncher } from '../pipeline/launcher';
import type { Pipeline } from '../pipeline/pipeline';

/**
 * `producer load` against a pipeline of the harness, run as a user runs it (the compiled CLI in its
 * own process), with the pipeline's topics, baselines and the stack's addresses in its environment.
 */
export function loadEnv(pipeline: Pipeline, stack: StackEnv): NodeJS.ProcessEnv {
  return {
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    SIGNADOT_ROUTESERVER_URL: stack.SIGNADOT_ROUTESERVER_URL,
    KAFKA_TOPIC: pipeline.topic,
    KAFKA_RESULTS_TOPIC: pipeline.resultsTopic,
    KAFKA_CONSUMER_GROUP: pipeline.consumerGroup,
    TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: pipeline.taskQueue,
    SIGNADOT_BASELINE_NAMESPACE: pipeline.namespace,
    WORKER_BASELINE_NAME: pipeline.workerBaseline,
    INGRESS_BASELINE_NAME: pipeline.ingressBaseline,
    LOG_LEVEL: 'warn',
  };
}

export interface LoadCliRun extends ProcessRun {
  /** The `--report` file, parsed; undefined when the run wrote none. */
  report: load.LoadReport | undefined;
}

/** Runs `node producer/dist/cli.js load <args> --report <reportFile>` to completion. */
export async function runLoadCli(
  pipeline: Pipeline,
  stack: StackEnv,
  args: readonly string[],
  reportFile: string,
  timeoutMs = 180_000,
): Promise<LoadCliRun> {
  const launch = checkoutLauncher.launch(
    'producer/dist/cli.js',
    ['load', ...args, '--report', reportFile],
    loadEnv(pipeline, stack),
  );
  const run = await runProcess(launch.command, launch.args, {
    env: launch.env,
    inheritEnv: false,
    cwd: launch.cwd,
    timeoutMs,
  });
  let report: load.LoadReport | undefined;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as load.LoadReport;
  } catch {
    report = undefined;
  }
  return { ...run, report };
}
