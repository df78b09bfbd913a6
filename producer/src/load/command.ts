import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RouteserverClient } from '@sandbox-routing/core';
import { createLogger, kafkaSecurityOptions, loadConfigOrReport } from '@sandbox-routing/service-kit';
import { serviceTelemetry } from '@sandbox-routing/service-kit/instrumentation';
import { subscribeTrail } from '@sandbox-routing/trail';
import { Command, InvalidArgumentError, Option } from 'commander';
import { OwnerDirectory } from '../console/owners';
import { PRODUCER_INSTRUMENT_ENTRY } from '../instrument-entry';
import { parseRate, parseRoutingKey, parseTopic } from '../options';
import { type PayloadFactory, payloadFromTemplate, sampleOrder } from '../payload';
import { connectSender, DEFAULT_EVENT_TYPE, type EventSender, UsageError } from '../publish';
import { stopOnSignals } from '../signals';
import { reportHtml } from './chart';
import { type LoadCommandConfig, loadLoadCommandConfig } from './config';
import { pipelineInspector } from './inspect';
import { collect, collectRampStage, parseDuration, parseSandboxName } from './options';
import {
  type LoadOwner,
  needsRoutingRules,
  type OwnerRequest,
  OwnerResolutionError,
  resolveOwners,
} from './owners';
import { formatProgress } from './progress';
import { formatReport, type LoadReport } from './report';
import { runLoad } from './run';
import { RateSchedule, type RateStage, ScheduleTooLargeError } from './schedule';
import { parseThreshold, type Threshold } from './thresholds';

/**
 * Exit codes of `load`: as `publish` (0, 1 error, 2 usage, 78 configuration, 130/143 signals), plus 99
 * when the run completed but failed its checks (a misroute, an event unfinished by the end of the
 * drain, a failed, dead-lettered or duplicated workflow, a failed send, or a breached threshold): k6
 * uses 99 for breached thresholds too.
 */
export const LOAD_EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  checksFailed: 99,
  config: 78,
  sigint: 130,
  sigterm: 143,
} as const;

/** The defaults when neither `--rate` nor `--ramp` is given: a short, gentle run. */
const DEFAULT_RATE = 10;
const DEFAULT_DURATION_MS = 30_000;
const DEFAULT_DRAIN_MS = 30_000;

/** Parsed options, as commander hands them to the action. */
export interface LoadFlags {
  baseline?: boolean;
  sandbox: string[];
  routingKey: (string | undefined)[];
  rate?: number;
  duration?: number;
  ramp: RateStage[];
  drainTimeout: number;
  threshold: Threshold[];
  report?: string;
  chart?: string;
  type: string;
  template?: PayloadFactory;
  idPrefix: string;
  topic?: string;
  quiet?: boolean;
  json?: boolean;
}

export interface LoadIo {
  printError(message: string): void;
  writeStdout(text: string): Promise<void>;
  /** The live progress line; `tty` rewrites one line in place. */
  progress: { write(text: string): void; tty: boolean };
}

const HELP = `
Owners: --baseline sends without a key; --sandbox NAME looks the sandbox's routing key up in the
routeserver (SIGNADOT_ROUTESERVER_URL; the rules of WORKER_BASELINE_NAME and INGRESS_BASELINE_NAME);
--routing-key KEY sends that key as it is. Each option may be repeated; every owner gets the rate.

Rate: --rate N --duration D (N events/s per owner), or one or more --ramp stages FROM..TO/D (linear)
or RATE/D (flat), run one after the other. Durations: 500ms, 30s, 2m, 1m30s. Without either: --rate
${DEFAULT_RATE} --duration ${DEFAULT_DURATION_MS / 1000}s. After the last send the run waits up to --drain-timeout for every event to
complete; what has no outcome by then is unfinished (late or stuck, not known to be lost), and
Temporal is asked whether each is still running, closed, or was never started.

Before sending it checks for work already waiting (the ingress group's lag on the topic,
KAFKA_CONSUMER_GROUP; open workflows on the owners' task queues, TEMPORAL_*) and warns with how much.
While Kafka does not answer, a send is retried for PUBLISH_RETRY_TIMEOUT_MS: those events go out
late, their latency counted from the first attempt; what still fails is a send failure.

Outcomes come from the trail records the ingress and workers publish (KAFKA_RESULTS_TOPIC): decided,
started, completed, failed, dead-lettered, misrouted (any step on another instance than the rules
name), unfinished, duplicates, publish → completed latency (HDR histogram), where the time goes, and
the highest rate the pipeline kept up with (judged as npm run bench judges "sustained").

Thresholds (k6 style): METRIC[{owner:NAME}] OP VALUE, e.g. 'p99<800ms', 'p95{owner:pr-101}<1s',
'unfinished==0', 'rate>=45'. Metrics: p50 p90 p95 p99 p(99.9) min max avg med (ms, or with a unit
ms/s); sent send_failures send_retried decided started completed failed dead_lettered misrouted
unfinished duplicates; rate (completions/s), sent_rate.

Examples:
  npx sandbox-routing load --baseline --sandbox pr-101 --rate 20 --duration 60s \\
    --threshold 'p99<1s' --report load.json --chart load.html
  npx sandbox-routing load --routing-key "$SIGNADOT_ROUTING_KEY" --ramp 10..200/60s --ramp 200/30s

Exit codes: 0 passed; 99 finished but failed a check (any misroute, unfinished, failed, dead-lettered
or duplicated event, failed send, or breached threshold); 1 error (Kafka or the routeserver
unreachable); 2 any usage error (an invalid option, value or owner: nothing sent); 78 invalid
configuration; 130/143 stopped by SIGINT/SIGTERM.`;

const ID_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

function parseIdPrefix(text: string): string {
  if (!ID_PREFIX.test(text)) {
    throw new InvalidArgumentError(
      'expected 1-40 letters, digits, ".", "_" or "-", starting with a letter or digit.',
    );
  }
  return text;
}

/** The schedule the flags ask for; `--rate`/`--duration` and `--ramp` exclude each other. */
export function scheduleOf(flags: Pick<LoadFlags, 'rate' | 'duration' | 'ramp'>): RateSchedule {
  if (flags.ramp.length > 0) {
    if (flags.rate !== undefined || flags.duration !== undefined) {
      throw new UsageError('--ramp', 'it replaces --rate and --duration: give one or the other');
    }
    return new RateSchedule(flags.ramp);
  }
  const rate = flags.rate ?? DEFAULT_RATE;
  return new RateSchedule([{ from: rate, to: rate, durationMs: flags.duration ?? DEFAULT_DURATION_MS }]);
}

async function ownersOf(request: OwnerRequest, config: LoadCommandConfig): Promise<LoadOwner[]> {
  // Baseline traffic needs no rules: its owner is the baseline whatever they say.
  if (!needsRoutingRules(request)) return resolveOwners(request, []);
  const { baselineKind: kind, baselineNamespace: namespace } = config.signadot;
  const directory = new OwnerDirectory({
    rules: new RouteserverClient(config.routeserver),
    routeserverUrl: config.routeserver.url,
    requestTimeoutMs: config.routeserver.requestTimeoutMs,
    refreshIntervalMs: 0,
    workerBaseline: { kind, namespace, name: config.baselines.workerBaselineName },
    ingressBaseline: { kind, namespace, name: config.baselines.ingressBaselineName },
  });
  await directory.refresh();
  const status = directory.status();
  if (!status.synced) {
    throw new Error(
      `cannot read routing rules from ${config.routeserver.url} (SIGNADOT_ROUTESERVER_URL): ${status.error ?? 'no answer'}`,
    );
  }
  return resolveOwners(request, directory.owners());
}

/** Runs `load`; resolves with the exit code. */
export async function runLoadCommand(flags: LoadFlags, io: LoadIo): Promise<number> {
  const config = loadConfigOrReport(loadLoadCommandConfig, (message) => io.printError(message));
  if (!config) return LOAD_EXIT.config;
  let schedule: RateSchedule;
  try {
    schedule = scheduleOf(flags);
  } catch (error) {
    if (!(error instanceof ScheduleTooLargeError || error instanceof UsageError)) throw error;
    io.printError(error.message);
    return LOAD_EXIT.usage;
  }
  const request: OwnerRequest = {
    baseline: Boolean(flags.baseline),
    sandboxes: flags.sandbox,
    // "" (--routing-key '') means no key, as in publish: the baseline.
    routingKeys: flags.routingKey.filter((k): k is string => k !== undefined),
  };
  if (flags.routingKey.some((k) => k === undefined)) request.baseline = true;
  const topic = flags.topic ?? config.kafka.topic;

  // Started by the --require entry; without it, here, before kafkajs is loaded (connectSender and
  // subscribeTrail load it).
  const telemetry = serviceTelemetry({ serviceName: 'producer' }, PRODUCER_INSTRUMENT_ENTRY);
  const log = createLogger(config.telemetry, undefined, { stderr: true });
  const stop = stopOnSignals(
    log,
    'load: stopping; the report covers what was sent (signal again to quit at once)',
  );
  let sender: EventSender | undefined;
  let inspector: ReturnType<typeof pipelineInspector> | undefined;
  try {
    let owners: LoadOwner[];
    try {
      owners = await ownersOf(request, config);
    } catch (error) {
      if (!(error instanceof OwnerResolutionError)) throw error;
      io.printError(error.message);
      return LOAD_EXIT.usage;
    }
    sender = await connectSender({ kafka: config.kafka, topic, log, logLevel: config.telemetry.logLevel });
    const connected = sender;
    inspector = pipelineInspector({
      kafka: config.kafka,
      topic,
      ingressGroup: config.ingress.consumerGroup,
      temporal: config.temporal,
    });
    const total = schedule.size * owners.length;
    log.info(
      {
        owners: owners.map((o) => ({ name: o.name, routingKey: o.routingKey, expected: o.expected })),
        eventsPerOwner: schedule.size,
        total,
        durationMs: schedule.durationMs,
      },
      'load: starting',
    );
    let line = 0;
    const report: LoadReport = await runLoad({
      owners,
      schedule,
      topic,
      eventType: flags.type,
      payload: flags.template ?? sampleOrder,
      idPrefix: flags.idPrefix,
      drainTimeoutMs: flags.drainTimeout,
      thresholds: flags.threshold,
      sender: connected,
      sendRetryTimeoutMs: config.publish.retryTimeoutMs,
      inspector,
      resultsTopic: config.results.topic,
      onWarning: (text) => io.progress.write(`warning: ${text}\n`),
      subscribe: (onRecord) =>
        subscribeTrail({
          brokers: config.kafka.brokers,
          clientId: config.kafka.clientId,
          security: kafkaSecurityOptions(config.kafka.security),
          topic: config.results.topic,
          onRecord,
          onInvalid: (reason) => log.debug({ reason }, 'load: skipped a message of the results topic'),
          logger: log,
        }),
      onProgress: flags.quiet
        ? undefined
        : (progress) => {
            // On a terminal one line is rewritten every second; in a log, a line every 5 s.
            if (io.progress.tty) io.progress.write(`\r\x1b[K${formatProgress(progress)}`);
            else if (line++ % 5 === 0) io.progress.write(`${formatProgress(progress)}\n`);
          },
      signal: stop.signal,
      log,
    });
    if (!flags.quiet && io.progress.tty) io.progress.write('\r\x1b[K');
    for (const [file, text] of [
      [flags.report, `${JSON.stringify(report, null, 2)}\n`],
      [flags.chart, reportHtml(report)],
    ] as const) {
      if (!file) continue;
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      writeFileSync(file, text);
    }
    await io.writeStdout(flags.json ? `${JSON.stringify(report)}\n` : formatReport(report));
    const stoppedBy = stop.stoppedBy();
    if (stoppedBy) return stoppedBy === 'SIGINT' ? LOAD_EXIT.sigint : LOAD_EXIT.sigterm;
    return report.passed ? LOAD_EXIT.ok : LOAD_EXIT.checksFailed;
  } catch (error) {
    io.printError(error instanceof Error ? error.message : String(error));
    return LOAD_EXIT.failed;
  } finally {
    stop.release();
    await inspector?.close();
    await sender?.disconnect().catch((error: Error) => log.warn({ err: error.message }, 'disconnect failed'));
    await telemetry
      .shutdown()
      .catch((error: Error) => log.warn({ err: error.message }, 'telemetry shutdown failed'));
  }
}

/** The `load` command's options and help, without an action. */
function loadOptions(): Command {
  return new Command('load')
    .description(
      'load-test one or more owners (baseline, sandboxes, routing keys): send events on a schedule and report what ran where, how fast',
    )
    .option('--baseline', 'send baseline traffic (no routing key)')
    .addOption(
      new Option(
        '--sandbox <name>',
        "send with this sandbox's routing key (looked up in the routeserver), repeatable",
      )
        .argParser(collect(parseSandboxName))
        .default([], 'none'),
    )
    .addOption(
      new Option('--routing-key <key>', 'send with this routing key, repeatable ("" for none)')
        .argParser(collect(parseRoutingKey))
        .default([], 'none'),
    )
    .addOption(
      new Option('--rate <events/s>', `events per second per owner (default ${DEFAULT_RATE})`).argParser(
        parseRate,
      ),
    )
    .addOption(
      new Option(
        '--duration <duration>',
        `how long to send at --rate (default ${DEFAULT_DURATION_MS / 1000}s)`,
      ).argParser(parseDuration),
    )
    .addOption(
      new Option(
        '--ramp <from..to/duration>',
        'a stage of the schedule (e.g. 10..200/60s, 50/30s), repeatable',
      )
        .argParser(collectRampStage)
        .default([], 'none'),
    )
    .addOption(
      new Option('--drain-timeout <duration>', 'after the last send, how long to wait for completions')
        .argParser(parseDuration)
        .default(DEFAULT_DRAIN_MS, `${DEFAULT_DRAIN_MS / 1000}s`),
    )
    .addOption(
      new Option(
        '--threshold <expression>',
        "pass/fail criterion, repeatable (e.g. 'p99<800ms', 'unfinished==0')",
      )
        .argParser(collect(parseThreshold))
        .default([], 'none'),
    )
    .option('--report <file>', 'write the report as JSON')
    .option('--chart <file>', 'write an HTML page with the table and a latency-over-time chart per owner')
    .option('--type <type>', 'event type, dotted lowercase', DEFAULT_EVENT_TYPE)
    .addOption(
      new Option(
        '--template <json>',
        'payload per event: JSON with {{seq}} and {{id}} placeholders',
      ).argParser((text: string) => payloadFromTemplate(text)),
    )
    .addOption(
      new Option('--id-prefix <prefix>', 'event ids <prefix>-<run>-<owner>-<seq>')
        .argParser(parseIdPrefix)
        .default('load'),
    )
    .addOption(
      new Option('--topic <topic>', 'topic to send to (default: KAFKA_TOPIC, events)').argParser(parseTopic),
    )
    .option('--quiet', 'no progress line')
    .option('--json', 'print the report as one JSON object on stdout instead of the table')
    .addHelpText('after', HELP);
}

/** The `load` subcommand, for the producer's program. */
export function loadCommand(onExitCode: (code: number) => void, io: LoadIo): Command {
  return loadOptions().action(async (flags: LoadFlags) => onExitCode(await runLoadCommand(flags, io)));
}

/**
 * Parses `load` arguments as the CLI would, without running anything (for checking command lines
 * written elsewhere, e.g. the Signadot job spec), and builds the schedule they ask for.
 * @throws CommanderError for an unknown option or a bad value; UsageError or ScheduleTooLargeError
 *   for a schedule the CLI would refuse
 */
export function parseLoadArgs(args: readonly string[]): { flags: LoadFlags; schedule: RateSchedule } {
  let flags: LoadFlags | undefined;
  loadOptions()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .action((parsed: LoadFlags) => {
      flags = parsed;
    })
    .parse([...args], { from: 'user' });
  if (!flags) throw new Error('load: no options parsed');
  return { flags, schedule: scheduleOf(flags) };
}
