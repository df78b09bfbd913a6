/**
 * The teardown command: `sandbox-routing-worker-teardown --sandbox <name> [--action ...]`. Lists the
 * open workflows left on a sandbox's task queue, with what each already ran, and terminates them or
 * restarts them on the baseline. Reads the worker's configuration (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, …, or CONFIG_FILE) like the worker does.
 */
import {
  CLI_EXIT,
  COMMAND_NAMES,
  connectClient,
  loadConfigOrReport,
  runCli,
} from '@sandbox-routing/service-kit';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadWorkerConfig } from './config';
import {
  DEFAULT_IF_ACTIVITIES_RAN,
  DEFAULT_TEARDOWN_CONCURRENCY,
  formatTeardownReport,
  IF_ACTIVITIES_RAN,
  type IfActivitiesRan,
  SandboxTeardown,
  sandboxWorkflowsQuery,
  TEARDOWN_ACTIONS,
  type TeardownAction,
} from './sandbox-teardown';

const NAME = COMMAND_NAMES.workerTeardown;

/** The project's exit codes, plus 3: done, but workflows were left open for a human to decide. */
export const TEARDOWN_EXIT = { ...CLI_EXIT, needsDecision: 3 } as const;

const HELP = `
A restart starts the workflow from the beginning on the baseline: every activity (and local activity,
and child workflow) it already ran on the sandbox runs again — a confirmation sent twice, a payment
taken twice. The listing and --dry-run show, per workflow, what already ran and when. By default
(--if-activities-ran ${DEFAULT_IF_ACTIVITIES_RAN}) such a workflow is not restarted but left open and
reported as needs-decision; decide per workflow with --workflow-id and --if-activities-ran restart
(accept the repeat) or terminate (end it; nothing more of it runs), or run the sandbox's worker again
until it finishes where it is. Run the restart after the sandbox's worker is gone: what ran is read
when listing.

Examples:
  # what is still running on sandbox pr-42's task queue (orders@pr-42), and what each already ran
  $ ${NAME} --sandbox pr-42

  # preview, then restart on the baseline (same id, same input, routing key kept) those that ran nothing
  $ ${NAME} --sandbox pr-42 --action restart-on-baseline --dry-run
  $ ${NAME} --sandbox pr-42 --action restart-on-baseline

  # one that already sent its confirmation: restart it anyway (it is sent again), or terminate it
  $ ${NAME} --sandbox pr-42 --action restart-on-baseline --if-activities-ran restart --workflow-id evt-123
  $ ${NAME} --sandbox pr-42 --action terminate --workflow-id evt-123 --json

Temporal settings come from the environment: TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE
(default), TEMPORAL_TASK_QUEUE (orders: the shared queue; the sandbox's queue is <queue>@<sandbox>),
TEMPORAL_TLS, TEMPORAL_API_KEY.

Exit codes: 0 done; 1 an action failed (or Temporal unreachable); 2 invalid option; 3 done, but
workflows were left open for you to decide (needs-decision; also with --dry-run); 78 invalid
configuration.`;

/** Parsed command line. Flags without a value are absent (not `false`) so `--help` shows no noise. */
interface TeardownOptions {
  sandbox: string;
  action: TeardownAction;
  ifActivitiesRan: IfActivitiesRan;
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

/** The command line, without running anything (tests parse with it). */
export function buildProgram(): Command {
  return new Command(NAME)
    .description(
      "List a sandbox's open workflows (those on its task queue) with what each already ran, and terminate them or restart them on the baseline.",
    )
    .requiredOption('--sandbox <name>', 'the sandbox whose workflows to handle', sandboxName)
    .addOption(
      new Option('--action <action>', 'what to do with each open workflow')
        .choices(TEARDOWN_ACTIONS)
        .default('list'),
    )
    .addOption(
      new Option(
        '--if-activities-ran <choice>',
        'restart-on-baseline only: what to do with a workflow some of whose activities already ran (a restart runs them again): skip it and report it, restart it anyway, or terminate it',
      )
        .choices(IF_ACTIVITIES_RAN)
        .default(DEFAULT_IF_ACTIVITIES_RAN),
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
    .addHelpText('after', HELP);
}

async function teardown(program: Command, options: TeardownOptions): Promise<number> {
  if (program.getOptionValueSource('ifActivitiesRan') === 'cli' && options.action !== 'restart-on-baseline') {
    // Thrown as commander's usage error: exit 2.
    program.error(`error: --if-activities-ran goes with --action restart-on-baseline, not ${options.action}`);
  }
  // The worker's whole schema, so a CONFIG_FILE written for the worker is accepted as it is.
  const config = loadConfigOrReport(loadWorkerConfig);
  if (!config) return TEARDOWN_EXIT.config;
  const { temporal } = config;
  const connection = await connectClient(temporal);
  try {
    const report = await new SandboxTeardown(connection, temporal.namespace, temporal.taskQueue).run({
      sandboxName: options.sandbox,
      action: options.action,
      ifActivitiesRan: options.ifActivitiesRan,
      dryRun: options.dryRun === true,
      workflowIds: options.workflowId,
      concurrency: options.concurrency,
    });
    console.log(options.json ? JSON.stringify(report, null, 2) : formatTeardownReport(report));
    if (report.failed) return TEARDOWN_EXIT.failed;
    return report.needsDecision > 0 ? TEARDOWN_EXIT.needsDecision : TEARDOWN_EXIT.ok;
  } finally {
    await connection.close();
  }
}

/** Runs the command line of this process and sets its exit code: the `sandbox-routing-worker-teardown` bin's body. */
export function runProcess(): void {
  const program = buildProgram();
  runCli(program, (options: TeardownOptions) => teardown(program, options), {
    printError: (message) => console.error(`${NAME}: ${message}`),
  }).then((code) => {
    // exitCode, not exit(): a large --json report into a pipe is flushed first.
    process.exitCode = code;
  });
}

if (require.main === module) runProcess();
