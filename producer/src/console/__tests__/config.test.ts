import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@sandbox-routing/shared';
import { assertReadmeDocumentsConfig } from '@sandbox-routing/testkit';
import { runCli } from '../../__tests__/run-cli';
import { consoleSchema, loadConsoleConfig } from '../config';

describe('console configuration', () => {
  it('has local-stack defaults: loopback, port 8090, the producer Kafka settings, the results topic', () => {
    const config = loadConsoleConfig({ env: {} });
    assert.equal(config.console.host, '127.0.0.1');
    assert.equal(config.console.port, 8090);
    assert.equal(config.kafka.topic, 'events');
    assert.equal(config.results.topic, 'events.results');
    assert.equal(config.console.workerBaselineName, 'worker');
    assert.equal(config.console.ingressBaselineName, 'ingress');
  });

  it('stops with a message naming the setting and its env var', () => {
    assert.throws(
      () => loadConsoleConfig({ env: { CONSOLE_PORT: 'eighty', TEMPORAL_UI_URL: 'ftp://x' } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /console\.port \(env CONSOLE_PORT\)/.test(error.message) &&
        /console\.temporalUiUrl \(env TEMPORAL_UI_URL\)/.test(error.message),
    );
  });

  it('is documented in the README configuration table', () => {
    assertReadmeDocumentsConfig(consoleSchema, path.resolve(__dirname, '../../../../README.md'));
  });
});

describe('producer console (command line, no servers)', () => {
  it('documents itself in --help', async () => {
    const run = await runCli(['console', '--help']);
    assert.equal(run.code, 0, run.stderr);
    for (const text of ['--host <address>', '--port <port>', 'baggage: sd-routing-key', 'CONSOLE_']) {
      assert.ok(run.stdout.includes(text), `help mentions ${text}`);
    }
  });

  it('exits 2 on a bad --port and 78 on bad configuration, before connecting to anything', async () => {
    const badPort = await runCli(['console', '--port', '70000']);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /expected a port number/);
    const badConfig = await runCli(['console'], { CONSOLE_PORT: 'x' });
    assert.equal(badConfig.code, 78);
    assert.match(badConfig.stderr, /console\.port \(env CONSOLE_PORT\)/);
  });
});
