import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../__tests__/run-cli';

// Each of these stops before any connection, so no server is needed: a usage error is found first.
// Kafka is pointed at a closed port so that a case that did try to connect would fail with 1, not 2.
const NOWHERE = { KAFKA_BROKERS: '127.0.0.1:9', SIGNADOT_ROUTESERVER_URL: 'http://127.0.0.1:9' };

describe('producer load: every usage error exits 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['a threshold that is not one', ['--threshold', 'p99<fast'], /threshold "p99<fast": expected METRIC/],
    ['a rate that is not a number', ['--rate', 'abc'], /'--rate <events\/s>' argument 'abc' is invalid/],
    ['a duration without a unit it knows', ['--duration', 'soon'], /expected a duration such as 500ms/],
    ['a ramp stage that is not one', ['--ramp', 'fast'], /expected FROM\.\.TO\/DURATION/],
    ['a drain timeout of zero', ['--drain-timeout', '0s'], /expected a duration above 0/],
    ['a sandbox name Signadot refuses', ['--sandbox', 'Not_A_Name'], /sandbox name "Not_A_Name"/],
    [
      'a routing key with spaces',
      ['--routing-key', 'a b'],
      /'--routing-key <key>' argument 'a b' is invalid/,
    ],
    ['an id prefix starting with a dash', ['--id-prefix', '-x'], /'--id-prefix <prefix>' argument/],
    ['a template that is not JSON', ['--template', '{'], /'--template <json>' argument/],
    ['a topic name Kafka refuses', ['--topic', 'bad topic'], /'--topic <topic>' argument/],
    ['an unknown option', ['--bogus'], /unknown option '--bogus'/],
    ['an argument load does not take', ['pr-101'], /too many arguments/],
    [
      '--ramp together with --rate',
      ['--rate', '5', '--ramp', '1..2/1s'],
      /option '--ramp' is invalid: it replaces --rate/,
    ],
    ['a schedule too large to track', ['--rate', '1000', '--duration', '6h'], /more than 250000/],
    ['the old threshold name lost', ['--threshold', 'lost==0'], /"lost" is now "unfinished"/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: ${args.join(' ')}`, async () => {
      const run = await runCli(['load', ...args], NOWHERE);
      assert.equal(run.code, 2, `exit ${run.code}\n${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '', 'nothing on stdout: no report');
    });
  }

  it('says so in its help, and --help itself exits 0', async () => {
    const run = await runCli(['load', '--help']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /2 any usage error \(an invalid option, value or owner: nothing sent\)/);
  });
});
