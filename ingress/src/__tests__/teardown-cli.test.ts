/**
 * The ingress's teardown command line, as users run it (the compiled file, a child process) and as
 * commander parses it: its name, durations, exit codes and the way it writes defaults. Nothing here
 * reaches Kafka: every run stops at the command line or the configuration.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { COMMAND_NAMES, runCli } from '@sandbox-routing/service-kit';
import { runProcess } from '@sandbox-routing/testkit';
import { buildProgram, type TeardownFlags } from '../teardown';

/** The teardown bin as npm installs it, run the way a user runs it. */
const TEARDOWN_BIN = path.resolve(__dirname, '../../../node_modules/.bin/sandbox-routing-ingress-teardown');

/** Runs the bin with only `env` (a broker that cannot answer unless a test sets one). */
function runTeardown(args: string[], env: Record<string, string> = {}) {
  return runProcess(TEARDOWN_BIN, args, {
    env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: '127.0.0.1:1', ...env },
    inheritEnv: false,
    timeoutMs: 30_000,
  });
}

/** The flags commander hands the action, without running it. */
async function parse(args: string[]): Promise<TeardownFlags> {
  let flags: TeardownFlags | undefined;
  const code = await runCli(
    buildProgram(),
    async (parsed: TeardownFlags) => {
      flags = parsed;
      return 0;
    },
    { argv: ['node', 'teardown.js', ...args] },
  );
  assert.equal(code, 0);
  assert.ok(flags);
  return flags;
}

describe('ingress teardown command line', () => {
  it('--help: the name users run it by, durations, defaults written one way, exit codes', async () => {
    const help = await runTeardown(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^Usage: ${COMMAND_NAMES.ingressTeardown} \\[options\\]\n`));
    for (const text of [
      '--fork-timeout <duration>',
      '(default: 1m)',
      '(default: 2m)',
      '(default: 10m)',
      'Durations: 500ms, 30s, 2m',
      `$ ${COMMAND_NAMES.ingressTeardown} --sandbox pr-42 --dry-run`,
      `$ ${COMMAND_NAMES.workerTeardown} --sandbox pr-42`,
      '2 invalid\noption; 3 refused',
    ]) {
      assert.ok(help.stdout.includes(text), `--help mentions ${text}`);
    }
    assert.doesNotMatch(help.stdout, /\(default [^:]/, "defaults are written as commander's (default: …)");
  });

  it('timeouts take durations as `producer load` does; a bare number is seconds', async () => {
    const defaults = await parse(['--sandbox', 'pr-42']);
    assert.deepEqual(
      [defaults.forkTimeout, defaults.fenceTimeout, defaults.moveTimeout],
      [60_000, 120_000, 600_000],
    );
    const given = await parse([
      '--sandbox',
      'pr-42',
      '--fork-timeout',
      '30s',
      '--fence-timeout',
      '2m',
      '--move-timeout',
      '45',
    ]);
    assert.deepEqual([given.forkTimeout, given.fenceTimeout, given.moveTimeout], [30_000, 120_000, 45_000]);
    assert.equal((await parse(['--sandbox', 'pr-42', '--fork-timeout', '500ms'])).forkTimeout, 500);
    // Past the command line, the configuration is read: exit 78, not a usage error.
    const accepted = await runTeardown(['--sandbox', 'pr-42', '--fork-timeout', '30s'], {
      KAFKA_BROKERS: 'nope',
    });
    assert.equal(accepted.code, 78, accepted.stderr);
    assert.match(accepted.stderr, /KAFKA_BROKERS/);
  });

  it('usage errors exit 2 with the reason, before reading the configuration', async () => {
    const cases: [string[], RegExp][] = [
      [[], /required option '--sandbox <name>' not specified/],
      [['--sandbox', '42pr'], /a sandbox name starts with a letter/],
      [
        ['--sandbox', 'pr-42', '--fork-timeout', '30x'],
        /'--fork-timeout <duration>' argument '30x' is invalid\. expected a duration such as 500ms, 30s/,
      ],
      [['--sandbox', 'pr-42', '--move-timeout', '0s'], /expected a duration above 0/],
      [['--sandbox', 'pr-42', '--bogus'], /unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      // An invalid configuration too: had parsing passed, the exit would be 78.
      const run = await runTeardown(args, { KAFKA_BROKERS: 'nope' });
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(' '));
    }
  });
});
