import {
  COMMAND_NAMES,
  createLogger,
  isSettingsRefusal,
  loadConfigOrReport,
} from '@sandbox-routing/service-kit';
import { serviceTelemetry } from '@sandbox-routing/service-kit/instrumentation';
import { Command, CommanderError, Option } from 'commander';
import { loadProducerConfig } from './config';
import { type ConsoleFlags, runConsoleCommand } from './console';
import { PRODUCER_INSTRUMENT_ENTRY } from './instrument-entry';
import { loadCommand } from './load/command';
import {
  collectHeader,
  type MessageHeaders,
  parseCount,
  parsePort,
  parseRate,
  parseRoutingKey,
  parseTopic,
} from './options';
import {
  type PayloadFactory,
  payloadFromFile,
  payloadFromJson,
  payloadFromTemplate,
  sampleOrder,
} from './payload';
import {
  buildEvents,
  connectSender,
  DEFAULT_EVENT_TYPE,
  type EventSender,
  formatSummary,
  PublishError,
  publishEvents,
  summaryJson,
  UsageError,
} from './publish';

export { PRODUCER_INSTRUMENT_ENTRY } from './instrument-entry';

/** Exit codes: sysexits-style 78 for configuration, 2 for command-line usage, 128+n for signals. */
export const EXIT = { ok: 0, failed: 1, usage: 2, config: 78, sigint: 130, sigterm: 143 } as const;

/** Parsed `publish` options, as commander hands them to the action. */
interface PublishFlags {
  /** `""` when given empty: commander stores "" when the parser returns undefined. */
  routingKey?: string;
  count: number;
  rate?: number;
  key?: string;
  type: string;
  payload?: PayloadFactory;
  payloadFile?: PayloadFactory;
  template?: PayloadFactory;
  idPrefix?: string;
  header: MessageHeaders;
  topic?: string;
  json?: boolean;
}

const EXAMPLES = `
Examples:
  # 10 events for the sandbox with routing key k7x2m9p4q1w8z (baggage: sd-routing-key=k7x2m9p4q1w8z)
  npx sandbox-routing publish --routing-key k7x2m9p4q1w8z --count 10

  # baseline traffic (no key), 600 events paced at 50 events/s, summary as JSON on stdout
  npx sandbox-routing publish --count 600 --rate 50 --json

  # ids demo-1..demo-3, a payload per event from a template, and an extra header
  npx sandbox-routing publish --count 3 --id-prefix demo \\
    --template '{"orderId":"{{id}}","items":[{"sku":"SKU-1","qty":{{seq}}}],"amount":9.5}' --header x-test=1

  # the same payload for every event, from a file, to another topic
  KAFKA_BROKERS=kafka-bootstrap:9092 npx sandbox-routing publish --payload-file order.json --topic events.replay

  # 20 events/s for 60 s to the baseline and the sandbox pr-101, with a report (see load --help)
  npx sandbox-routing load --baseline --sandbox pr-101 --rate 20 --duration 60s

  # the web console on http://127.0.0.1:8090 (see console --help)
  npx sandbox-routing console

Kafka settings come from the environment (KAFKA_BROKERS, KAFKA_TOPIC, KAFKA_CLIENT_ID, LOG_LEVEL, ...;
see the README). While no broker answers, connecting and sending are retried for PUBLISH_RETRY_TIMEOUT_MS
(2 minutes); the summary then says what was sent. Logs go to stderr, the summary to stdout.

Exit codes: 0 all sent; 1 Kafka error (nothing or part sent, see the message); 2 invalid option, nothing
sent; 78 invalid configuration; 130/143 stopped by SIGINT/SIGTERM after the batch in flight.`;

const CONSOLE_HELP = `
Opens on http://127.0.0.1:8090 by default. Through a Signadot preview URL (or with the browser
extension) the request carries baggage: sd-routing-key=<key> and that owner is pre-selected; so does
?sd-routing-key=<key>. Settings: the producer's (KAFKA_BROKERS, KAFKA_TOPIC, ...) plus TEMPORAL_*,
SIGNADOT_ROUTESERVER_URL, KAFKA_RESULTS_TOPIC, TEMPORAL_UI_URL, CONSOLE_* (see the README).`;

async function writeStdout(text: string): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    process.stdout.write(text, (error) => (error ? reject(error) : resolve())),
  );
}

function printError(message: string): void {
  process.stderr.write(`error: ${message}\n`);
}

/** Runs `publish`; resolves with the process exit code. */
async function publish(flags: PublishFlags): Promise<number> {
  const config = loadConfigOrReport(loadProducerConfig, printError);
  if (!config) return EXIT.config;
  const topic = flags.topic ?? config.kafka.topic;
  const payloadOption = flags.payload
    ? '--payload'
    : flags.payloadFile
      ? '--payload-file'
      : flags.template
        ? '--template'
        : undefined;

  let events: ReturnType<typeof buildEvents>;
  try {
    events = buildEvents({
      count: flags.count,
      type: flags.type,
      idPrefix: flags.idPrefix,
      payload: flags.payload ?? flags.payloadFile ?? flags.template ?? sampleOrder,
      payloadOption,
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    printError(error.message);
    return EXIT.usage;
  }

  // Started by the --require entry; without it, here, before kafkajs is loaded (connectSender loads it).
  const telemetry = serviceTelemetry({ serviceName: 'producer' }, PRODUCER_INSTRUMENT_ENTRY);
  const log = createLogger(config.telemetry, undefined, { stderr: true });
  const stop = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy ??= signal;
    log.warn({ signal }, 'stopping after the batch in flight');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let sender: EventSender | undefined;
  try {
    const retryTimeoutMs = config.publish.retryTimeoutMs;
    sender = await connectSender({
      kafka: config.kafka,
      topic,
      log,
      logLevel: config.telemetry.logLevel,
      retryTimeoutMs,
    });
    const result = await publishEvents(sender, events, {
      topic,
      routingKey: flags.routingKey,
      key: flags.key,
      headers: flags.header,
      rate: flags.rate,
      signal: stop.signal,
      log,
      retryTimeoutMs,
    });
    await writeStdout(flags.json ? `${JSON.stringify(summaryJson(result))}\n` : formatSummary(result));
    if (!result.interrupted) return EXIT.ok;
    return stoppedBy === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
  } catch (error) {
    printError(error instanceof Error ? error.message : String(error));
    if (error instanceof PublishError && flags.json)
      await writeStdout(`${JSON.stringify(summaryJson(error.partial))}\n`);
    return isSettingsRefusal(error) ? EXIT.config : EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sender?.disconnect().catch((error: Error) => log.warn({ err: error.message }, 'disconnect failed'));
    await telemetry
      .shutdown()
      .catch((error: Error) => log.warn({ err: error.message }, 'telemetry shutdown failed'));
  }
}

/**
 * The `producer` command line. `publish` reports its exit code through `onExitCode`; commander's own
 * errors (unknown option, bad value, conflicting payload options) and `--help` surface as a
 * `CommanderError` from `parseAsync` instead of exiting the process, since the program calls
 * `exitOverride()`, so {@link main} can map them to the exit codes in {@link EXIT}.
 */
export function buildProgram(onExitCode: (code: number) => void): Command {
  const program = new Command()
    .name(COMMAND_NAMES.producer)
    .description(
      'Publishes test events to Kafka with the routing key in OpenTelemetry baggage, so the ingress and ' +
        'the Temporal workers route them to the Signadot sandbox that owns the key.',
    )
    .exitOverride()
    .showSuggestionAfterError()
    .addHelpText('after', EXAMPLES);

  program
    .command('publish')
    .description('publish test events (one JSON event per message, validated against the event schema first)')
    .addOption(
      new Option(
        '--routing-key <key>',
        'routing key, sent as W3C baggage sd-routing-key=<key>; "" for none',
      ).argParser(parseRoutingKey),
    )
    .addOption(new Option('--count <n>', 'number of events').argParser(parseCount).default(1))
    .addOption(
      new Option(
        '--rate <events/s>',
        'pace sending at this many events per second (default: as fast as possible)',
      ).argParser(parseRate),
    )
    .option(
      '--key <key>',
      'Kafka message key of every event (default: the event id, spreading events over partitions)',
    )
    .option(
      '--type <type>',
      'event type: lower-case words joined by dots, e.g. order.created',
      DEFAULT_EVENT_TYPE,
    )
    .addOption(
      new Option('--payload <json>', 'payload of every event, a JSON object')
        .argParser((text: string) => payloadFromJson(text))
        .conflicts(['payloadFile', 'template']),
    )
    .addOption(
      new Option('--payload-file <path>', 'payload of every event, from a file holding a JSON object')
        .argParser((text: string) => payloadFromFile(text))
        .conflicts(['template']),
    )
    .addOption(
      new Option(
        '--template <json>',
        'payload per event: JSON with {{seq}} (1..n) and {{id}} placeholders',
      ).argParser((text: string) => payloadFromTemplate(text)),
    )
    .option('--id-prefix <prefix>', 'event ids <prefix>-<seq> (default: random UUIDs)')
    .addOption(
      new Option('--header <name=value>', 'extra Kafka header, repeatable (not baggage or traceparent)')
        .argParser(collectHeader)
        .default({}, 'none'),
    )
    .addOption(
      new Option('--topic <topic>', 'topic to publish to (default: KAFKA_TOPIC, events)').argParser(
        parseTopic,
      ),
    )
    .option('--json', 'print the summary as one JSON object on stdout')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: PublishFlags) => onExitCode(await publish(flags)));

  program
    .command('console')
    .description(
      'serve the web console: send events to any owner (baseline, sandbox, RouteGroup) and watch where each runs',
    )
    .option('--host <address>', 'bind address (default: CONSOLE_HOST, 127.0.0.1)')
    .addOption(new Option('--port <port>', 'port (default: CONSOLE_PORT, 8090)').argParser(parsePort))
    .addHelpText('after', CONSOLE_HELP)
    .action(async (flags: ConsoleFlags) =>
      onExitCode(
        await runConsoleCommand(flags, {
          printError,
          printLine: (line) => process.stdout.write(`${line}\n`),
        }),
      ),
    );

  // addCommand, unlike command(), does not pass the program's settings on: without them commander
  // would exit 1 on a usage error of `load` itself instead of throwing for main to map to 2.
  program.addCommand(
    loadCommand(onExitCode, {
      printError,
      writeStdout,
      progress: { write: (text) => process.stderr.write(text), tty: Boolean(process.stderr.isTTY) },
    }).copyInheritedSettings(program),
  );

  return program;
}

/** Parses `argv` and runs the command; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // Commander already printed its message (or the help); map its exit codes to ours.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    printError(error instanceof Error ? error.message : String(error));
    return EXIT.failed;
  }
  return exitCode;
}

/** Runs the command line of this process and sets its exit code: the `sandbox-routing` bin's body. */
export function runProcess(): void {
  main(process.argv).then(
    (code) => {
      // exitCode, not exit(): stdout (a large --json summary into a pipe) is flushed before the process ends.
      process.exitCode = code;
    },
    (error: unknown) => {
      printError(String(error));
      process.exitCode = EXIT.failed;
    },
  );
}

if (require.main === module) runProcess();
