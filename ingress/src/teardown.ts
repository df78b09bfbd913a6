/**
 * The ingress's teardown command: `node ingress/dist/teardown.js --sandbox <name>`. Moves what is left
 * in a deleted sandbox's topic (`<topic>.sandbox.<name>`: events the baseline forwarded and the fork's
 * ingress never processed) back to the events topic, where the baseline ingress starts them, then
 * deletes the topic and the fork's consumer group. See `SandboxDrain` for how nothing is dropped.
 *
 * Reads the ingress's configuration (KAFKA_*, SIGNADOT_*, the routeserver URL, or CONFIG_FILE) like the
 * baseline ingress does. Run it after the sandbox is deleted, then the worker's teardown command for
 * workflows left pinned to the sandbox's task queue.
 *
 * Exit codes: 0 done (or nothing to do), 1 failed or timed out (nothing deleted; run it again), 2 refused
 * (the sandbox still exists or its ingress still runs), 78 invalid configuration.
 */
import {
  createLogger,
  isSandboxName,
  loadConfigOrReport,
  RouteserverClient,
  redactConfig,
} from '@sandbox-routing/shared';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ingressSchema, loadIngressConfig } from './config';
import { kafkajsClients } from './kafka/kafkajs';
import { type DrainReport, SandboxDrain, TeardownRefusedError } from './sandbox-drain';

const EXIT = { ok: 0, failed: 1, refused: 2, config: 78 } as const;

const EXAMPLES = `
Examples:
  # after \`signadot sandbox delete pr-42\`: how many events did its ingress leave unprocessed?
  $ node ingress/dist/teardown.js --sandbox pr-42 --dry-run

  # move them back to the events topic (the baseline runs them), delete the topic and the group
  $ node ingress/dist/teardown.js --sandbox pr-42

  # then the workflows its worker left behind
  $ node worker/dist/teardown.js --sandbox pr-42 --action restart-on-baseline

Kafka and routeserver settings come from the environment, as for the ingress: KAFKA_BROKERS,
KAFKA_TOPIC (events), KAFKA_CONSUMER_GROUP (ingress), SIGNADOT_ROUTESERVER_URL, SIGNADOT_BASELINE_*.`;

interface TeardownFlags {
  sandbox: string;
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
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

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('expected seconds, above 0.');
  return parsed * 1000;
}

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
  if (!config) return EXIT.config;
  // Logs (kafkajs warnings, progress) go to stderr; stdout carries the report.
  const logger = createLogger({ ...config.telemetry, serviceName: 'ingress-teardown' }, config.signadot, {
    stderr: true,
  });
  logger.debug({ config: redactConfig(ingressSchema, config) }, 'teardown starting');
  const kafka = kafkajsClients({
    brokers: config.kafka.brokers,
    clientId: `${config.kafka.clientId}-teardown`,
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
    forksIngress: async (sandbox) =>
      (
        await routeserver.getRoutingRules({
          baselineKind: baseline.baselineKind,
          baselineNamespace: baseline.baselineNamespace,
          baselineName: baseline.baselineName,
          destinationSandboxName: sandbox,
        })
      ).length > 0,
    forkGoneTimeoutMs: flags.forkTimeout,
    fenceTimeoutMs: flags.fenceTimeout,
    moveTimeoutMs: flags.moveTimeout,
    log: (message) => logger.info({ sandbox: flags.sandbox }, message),
  });
  try {
    const report = await drain.run({ sandbox: flags.sandbox, dryRun: flags.dryRun, force: flags.force });
    console.log(flags.json ? JSON.stringify(report, null, 2) : formatDrainReport(report));
    return EXIT.ok;
  } catch (error) {
    console.error(`teardown of ${flags.sandbox}: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof TeardownRefusedError ? EXIT.refused : EXIT.failed;
  } finally {
    await kafka.close();
  }
}

const program = new Command('teardown')
  .description(
    "Move what a deleted sandbox's ingress left in its topic back to the events topic (the baseline runs it), then delete the topic and the fork's consumer group.",
  )
  .requiredOption('--sandbox <name>', 'the deleted sandbox', sandboxName)
  .option('--dry-run', 'count what is left, change nothing')
  .option('--force', "go on although the routeserver still has the sandbox's rules or its group has members")
  .option('--json', 'print a JSON report instead of text')
  .addOption(
    new Option('--fork-timeout <seconds>', "how long to wait for the fork's ingress to leave its group")
      .argParser(seconds)
      .default(60_000, '60'),
  )
  .addOption(
    new Option(
      '--fence-timeout <seconds>',
      'how long to wait for the baseline ingress to pass the fence (it first works through what is ahead of it)',
    )
      .argParser(seconds)
      .default(120_000, '120'),
  )
  .addOption(
    new Option('--move-timeout <seconds>', 'how long moving the records back may take')
      .argParser(seconds)
      .default(600_000, '600'),
  )
  .addHelpText('after', EXAMPLES)
  .action(async (flags: TeardownFlags) => {
    process.exitCode = await teardown(flags);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(`teardown failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(EXIT.failed);
});
