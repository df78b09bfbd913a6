/**
 * The teardown command: `node worker/dist/teardown.js --sandbox <name> [--action ...]`. Lists the
 * open workflows left on a sandbox's task queue and terminates them or restarts them on the baseline.
 * Reads the worker's configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, …, or
 * CONFIG_FILE) like the worker does.
 *
 * Exit codes: 0 when every action succeeded, 1 when any failed (or on an error), 78 on invalid
 * configuration; usage errors exit 1 with commander's message.
 */
import { connectClient, loadConfigOrExit } from '@sandbox-routing/shared';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadWorkerConfig } from './config';
import {
  DEFAULT_TEARDOWN_CONCURRENCY,
  formatTeardownReport,
  SandboxTeardown,
  sandboxWorkflowsQuery,
  TEARDOWN_ACTIONS,
  type TeardownAction,
} from './sandbox-teardown';

const EXAMPLES = `
Examples:
  # what is still running on sandbox pr-42's task queue (orders@pr-42)?
  $ node worker/dist/teardown.js --sandbox pr-42

  # preview, then restart them all on the baseline (same id, same input, routing key kept)
  $ node worker/dist/teardown.js --sandbox pr-42 --action restart-on-baseline --dry-run
  $ node worker/dist/teardown.js --sandbox pr-42 --action restart-on-baseline

  # terminate one workflow, machine-readable output
  $ node worker/dist/teardown.js --sandbox pr-42 --action terminate --workflow-id evt-123 --json

Temporal settings come from the environment: TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE
(default), TEMPORAL_TASK_QUEUE (orders: the shared queue; the sandbox's queue is <queue>@<sandbox>),
TEMPORAL_TLS, TEMPORAL_API_KEY.`;

/** Parsed command line. Flags without a value are absent (not `false`) so `--help` shows no noise. */
interface TeardownOptions {
  sandbox: string;
  action: TeardownAction;
  workflowId?: string[];
  dryRun?: boolean;
  json?: boolean;
  concurrency: number;
}

function sandboxName(value: string): string {
  try {
    // Validates the name exactly as the query will use it.
    sandboxWorkflowsQuery('q', value);
  } catch {
    throw new InvalidArgumentError(
      'a sandbox name starts with a letter: letters, digits and "-", at most 30.',
    );
  }
  return value;
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError('expected a whole number, 1 or more.');
  return parsed;
}

async function teardown(options: TeardownOptions): Promise<number> {
  // The worker's whole schema, so a CONFIG_FILE written for the worker is accepted as it is.
  const { temporal } = loadConfigOrExit(loadWorkerConfig);
  const connection = await connectClient(temporal);
  try {
    const report = await new SandboxTeardown(connection, temporal.namespace, temporal.taskQueue).run({
      sandboxName: options.sandbox,
      action: options.action,
      dryRun: options.dryRun === true,
      workflowIds: options.workflowId,
      concurrency: options.concurrency,
    });
    console.log(options.json ? JSON.stringify(report, null, 2) : formatTeardownReport(report));
    return report.failed ? 1 : 0;
  } finally {
    await connection.close();
  }
}

const program = new Command('teardown')
  .description(
    "List a sandbox's open workflows (those on its task queue) and terminate them or restart them on the baseline.",
  )
  .requiredOption('--sandbox <name>', 'the sandbox whose workflows to handle', sandboxName)
  .addOption(
    new Option('--action <action>', 'what to do with each open workflow')
      .choices(TEARDOWN_ACTIONS)
      .default('list'),
  )
  .option(
    '--workflow-id <id>',
    'only this workflow (repeat for several)',
    (id: string, ids: string[] | undefined) => [...(ids ?? []), id],
  )
  .addOption(
    new Option('--concurrency <n>', 'workflows handled at once')
      .argParser(positiveInteger)
      .default(DEFAULT_TEARDOWN_CONCURRENCY),
  )
  .option('--dry-run', 'print what would be done, change nothing')
  .option('--json', 'print a JSON report instead of text')
  .addHelpText('after', EXAMPLES)
  .action(async (options: TeardownOptions) => {
    process.exitCode = await teardown(options);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(`teardown failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
