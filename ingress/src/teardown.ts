/**
 * The ingress's teardown command: `sandbox-routing-ingress-teardown --sandbox <name>` (its name:
 * `COMMAND_NAMES.ingressTeardown`). Moves what is left
 * in a deleted sandbox's topic (`<topic>.sandbox.<name>`: events the baseline forwarded and the fork's
 * ingress never processed) back to the events topic, where the baseline ingress starts them, then
 * deletes the topic and the fork's consumer group. See `SandboxDrain` for how nothing is dropped.
 *
 * Reads the ingress's configuration (KAFKA_*, SIGNADOT_*, the routeserver URL, or CONFIG_FILE) like the
 * baseline ingress does. Run it after the sandbox is deleted, then the worker's teardown command for
 * workflows left pinned to the sandbox's task queue.
 *
 * Exit codes: 0 done (or nothing to do), 1 failed or timed out (nothing deleted; run it again), 2 invalid
 * option, 3 refused (the sandbox still exists or its ingress still runs), 78 invalid configuration.
 */
import { isSandboxName, RouteserverClient } from '@sandbox-routing/core';
import { type DrainReport, kafkajsClients, SandboxDrain, TeardownRefusedError } from '@sandbox-routing/kafka';
import {
  CLI_EXIT,
  COMMAND_NAMES,
  createLogger,
  formatDuration,
  isSettingsRefusal,
  kafkaSecurityOptions,
  loadConfigOrReport,
  optionParser,
  parseDurationMs,
  redactConfig,
  runCli,
} from '@sandbox-routing/service-kit';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ingressSchema, loadIngressConfig } from './config';

const NAME = COMMAND_NAMES.ingressTeardown;

/** The project's exit codes, plus 3: refused, nothing changed. */
export const TEARDOWN_EXIT = { ...CLI_EXIT, refused: 3 } as const;

const EXAMPLES = `
Durations: 500ms, 30s, 2m, 1m30s, 1h; a bare number is seconds.

Examples:
  # after \`signadot sandbox delete pr-42\`: how many events did its ingress leave unprocessed?
  $ ${NAME} --sandbox pr-42 --dry-run

  # move them back to the events topic (the baseline runs them), delete the topic and the group
  $ ${NAME} --sandbox pr-42 --fence-timeout 5m

  # then the workflows its worker left behind (see its --help: what already ran is not repeated)
  $ ${COMMAND_NAMES.workerTeardown} --sandbox pr-42 --action restart-on-baseline

Kafka and routeserver settings come from the environment, as for the ingress: KAFKA_BROKERS,
KAFKA_TOPIC (events), KAFKA_CONSUMER_GROUP (ingress), SIGNADOT_ROUTESERVER_URL, SIGNADOT_BASELINE_*.

Exit codes: 0 done (or nothing to do); 1 failed or timed out (nothing deleted; run it again); 2 invalid
option; 3 refused (the sandbox still has routing rules or its ingress still consumes; nothing changed);
78 invalid configuration.`;

/** Default timeouts, in milliseconds. */
const DEFAULT_FORK_TIMEOUT_MS = 60_000;
const DEFAULT_FENCE_TIMEOUT_MS = 120_000;
const DEFAULT_MOVE_TIMEOUT_MS = 600_000;

export interface TeardownFlags {
  sandbox: string;
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
  /** Milliseconds, as are the other timeouts. */
  forkTimeout: number;
  fenceTimeout: number;
  moveTimeout: number;
}

function sandboxName(value: string): string {
  if (!isSandboxName(value)) {
    throw new InvalidArgumentError(
      'a sandbox name starts with a letter: letters, digits and "-", at most 30.',
    );
  }
  return value;
}

const duration = optionParser(parseDurationMs, InvalidArgumentError);

export function formatDrainReport(report: DrainReport): string {
  const lines = [`sandbox ${report.sandbox}: topic ${report.topic}, consumer group ${report.group}`];
  if (!report.topicExisted) {
    lines.push('  no sandbox topic: nothing was forwarded to this sandbox, or it was torn down already');
  } else if (report.dryRun) {
    lines.push(`  ${report.leftover} record(s) left unprocessed (dry run: nothing changed)`);
  } else {
    lines.push(
      `  fence passed on ${report.fencedPartitions.length} partition(s) of the events topic`,
      `  moved ${report.moved} record(s) back to the events topic (the baseline ingress starts them)`,
      report.keptBecause
        ? `  ${report.keptBecause}`
        : `  topic deleted: ${report.topicDeleted ? 'yes' : 'no'}; group deleted: ${report.groupDeleted ? 'yes' : 'no'}`,
    );
  }
  return lines.join('\n');
}

async function teardown(flags: TeardownFlags): Promise<number> {
  const config = loadConfigOrReport(loadIngressConfig);
  if (!config) return TEARDOWN_EXIT.config;
  // Logs (kafkajs warnings, progress) go to stderr; stdout carries the report.
  const logger = createLogger({ ...config.telemetry, serviceName: 'ingress-teardown' }, config.signadot, {
    stderr: true,
  });
  logger.debug({ config: redactConfig(ingressSchema, config) }, 'teardown starting');
  const kafka = kafkajsClients({
    brokers: config.kafka.brokers,
    clientId: `${config.kafka.clientId}-teardown`,
    security: kafkaSecurityOptions(config.kafka.security),
    logger,
    logLevel: config.telemetry.logLevel,
  });
  const routeserver = new RouteserverClient({
    url: config.routeserver.url,
    requestTimeoutMs: config.routeserver.requestTimeoutMs,
  });
  const baseline = config.signadot;
  const drain = new SandboxDrain({
    eventsTopic: config.kafka.topic,
    consumerGroup: config.kafka.consumerGroup,
    admin: kafka.admin,
    sink: kafka.sink,
    openSource: (options) => kafka.source({ ...options, maxWaitTimeMs: 200 }),
    forksWorkload: (sandbox) =>
      routeserver.forks(sandbox, {
        kind: baseline.baselineKind,
        namespace: baseline.baselineNamespace,
        name: baseline.baselineName,
      }),
    forkGoneTimeoutMs: flags.forkTimeout,
    fenceTimeoutMs: flags.fenceTimeout,
    moveTimeoutMs: flags.moveTimeout,
    log: (message) => logger.info({ sandbox: flags.sandbox }, message),
  });
  try {
    // Refused credentials or TLS: say which settings, at once, instead of retrying.
    await kafka.checkAccess();
    const report = await drain.run({ sandbox: flags.sandbox, dryRun: flags.dryRun, force: flags.force });
    console.log(flags.json ? JSON.stringify(report, null, 2) : formatDrainReport(report));
    return TEARDOWN_EXIT.ok;
  } catch (error) {
    console.error(`teardown of ${flags.sandbox}: ${error instanceof Error ? error.message : String(error)}`);
    if (isSettingsRefusal(error)) return TEARDOWN_EXIT.config;
    return error instanceof TeardownRefusedError ? TEARDOWN_EXIT.refused : TEARDOWN_EXIT.failed;
  } finally {
    await kafka.close();
  }
}

/** The command line, without running anything (tests parse with it). */
export function buildProgram(): Command {
  return new Command(NAME)
    .description(
      "Move what a deleted sandbox's ingress left in its topic back to the events topic (the baseline runs it), then delete the topic and the fork's consumer group.",
    )
    .requiredOption('--sandbox <name>', 'the deleted sandbox', sandboxName)
    .option('--dry-run', 'count what is left, change nothing')
    .option(
      '--force',
      "go on although the routeserver still has the sandbox's rules or its group has members",
    )
    .option('--json', 'print a JSON report instead of text')
    .addOption(
      new Option('--fork-timeout <duration>', "how long to wait for the fork's ingress to leave its group")
        .argParser(duration)
        .default(DEFAULT_FORK_TIMEOUT_MS, formatDuration(DEFAULT_FORK_TIMEOUT_MS)),
    )
    .addOption(
      new Option(
        '--fence-timeout <duration>',
        'how long to wait for the baseline ingress to pass the fence (it first works through what is ahead of it)',
      )
        .argParser(duration)
        .default(DEFAULT_FENCE_TIMEOUT_MS, formatDuration(DEFAULT_FENCE_TIMEOUT_MS)),
    )
    .addOption(
      new Option('--move-timeout <duration>', 'how long moving the records back may take')
        .argParser(duration)
        .default(DEFAULT_MOVE_TIMEOUT_MS, formatDuration(DEFAULT_MOVE_TIMEOUT_MS)),
    )
    .addHelpText('after', EXAMPLES);
}

/** Runs the command line of this process and sets its exit code: the `sandbox-routing-ingress-teardown` bin's body. */
export function runProcess(): void {
  runCli(buildProgram(), teardown, {
    printError: (message) => console.error(`${NAME}: ${message}`),
  }).then((code) => {
    // exitCode, not exit(): the report on stdout is flushed first.
    process.exitCode = code;
  });
}

if (require.main === module) runProcess();
