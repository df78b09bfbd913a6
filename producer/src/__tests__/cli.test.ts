import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from './run-cli';

// These runs stop before any connection (help, option errors), so they need no servers. The runs that
// talk to Kafka are in publish.integration.test.ts.
describe('producer CLI without servers', () => {
  it('shows options and examples in publish --help, exit 0', async () => {
    const run = await runCli(['publish', '--help']);
    assert.equal(run.code, 0, run.stderr);
    for (const text of [
      '--routing-key <key>',
      '--count <n>',
      '--rate <events/s>',
      '--template <json>',
      '--json',
    ]) {
      assert.ok(run.stdout.includes(text), `help mentions ${text}`);
    }
    assert.match(run.stdout, /Examples:\n\s+# 10 events for the sandbox/);
    assert.match(run.stdout, /npx sandbox-routing publish --routing-key \S+ --count 10/);
    assert.match(run.stdout, /Exit codes: 0 all sent/);
  });

  it('shows examples of every command in --help, all as the bin', async () => {
    const run = await runCli(['--help']);
    assert.equal(run.code, 0, run.stderr);
    for (const command of ['publish', 'load', 'console']) {
      assert.match(
        run.stdout,
        new RegExp(`\\n  (\\S+=\\S+ )?npx sandbox-routing ${command}\\b`),
        `an example of ${command}`,
      );
    }
    assert.doesNotMatch(run.stdout, /dist\/|--require/);
  });

  it('starts telemetry before kafkajs by itself: no warning, no --require', async () => {
    // Nothing listens on port 1: publish gives up at once, after telemetry started.
    const run = await runCli(['publish', '--count', '1'], {
      KAFKA_BROKERS: '127.0.0.1:1',
      PUBLISH_RETRY_TIMEOUT_MS: '200',
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /cannot reach Kafka at 127\.0\.0\.1:1/);
    assert.doesNotMatch(run.stderr, /telemetry: started without/);
  });

  it('exits 2 on command-line errors commander detects', async () => {
    const cases: [string[], RegExp][] = [
      [['publish', '--bogus'], /unknown option '--bogus'/],
      [
        ['publish', '--payload', '{}', '--template', '{}'],
        /'--payload <json>' cannot be used with option '--template <json>'/,
      ],
      [['publish', '--count', 'many'], /option '--count <n>' argument 'many' is invalid/],
      [
        ['publish', '--payload', '{"a":'],
        /option '--payload <json>' argument .* is invalid\. not valid JSON/,
      ],
      [
        ['publish', '--header', 'baggage=sd-routing-key=k1'],
        /option '--header <name=value>'.*use --routing-key/,
      ],
      [[], /Usage: sandbox-routing \[options\] \[command\]/],
    ];
    for (const [args, pattern] of cases) {
      const run = await runCli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, pattern);
      assert.equal(run.stdout, '');
    }
  });
});
