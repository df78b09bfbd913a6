import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@sandbox-routing/service-kit';
import { assertDocsDocumentConfig } from '@sandbox-routing/testkit';
import { runCli } from '../../__tests__/run-cli';
import { consoleAccessFrom } from '../access';
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

  it('takes the token from CONSOLE_TOKEN_FILE (which wins) or CONSOLE_TOKEN, and the allowed hosts', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'console-token-'));
    const file = path.join(dir, 'token');
    writeFileSync(file, 'from-file\n');
    const fromFile = consoleAccessFrom(
      loadConsoleConfig({
        env: {
          CONSOLE_HOST: '0.0.0.0',
          CONSOLE_TOKEN: 'from-env',
          CONSOLE_TOKEN_FILE: file,
          CONSOLE_ALLOWED_HOSTS: ' *.Preview.Signadot.com , console.sandbox-routing.svc,',
        },
      }).console,
    );
    assert.equal(fromFile.token, 'from-file');
    assert.deepEqual(fromFile.allowedHosts, ['*.preview.signadot.com', 'console.sandbox-routing.svc']);
    assert.equal(consoleAccessFrom(loadConsoleConfig({ env: { CONSOLE_TOKEN: 'x' } }).console).token, 'x');
    assert.equal(
      consoleAccessFrom(loadConsoleConfig({ env: {} }).console).token,
      null,
      'optional on loopback',
    );
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '\n');
    const problems: [Record<string, string>, RegExp][] = [
      [
        { CONSOLE_HOST: '0.0.0.0' },
        /console\.token \(env CONSOLE_TOKEN\): required when the console binds a non-loopback address \(0\.0\.0\.0\)/,
      ],
      [{ CONSOLE_HOST: '10.0.0.7', CONSOLE_TOKEN: '  ' }, /env CONSOLE_TOKEN\): required/],
      [
        { CONSOLE_TOKEN_FILE: path.join(dir, 'missing') },
        /console\.tokenFile \(env CONSOLE_TOKEN_FILE\): cannot read .*missing: ENOENT/,
      ],
      [{ CONSOLE_TOKEN_FILE: empty }, /env CONSOLE_TOKEN_FILE\): .*empty is empty/],
      [
        { CONSOLE_ALLOWED_HOSTS: 'https://x.example' },
        /env CONSOLE_ALLOWED_HOSTS\): "https:\/\/x\.example" is not a host name/,
      ],
    ];
    for (const [env, message] of problems) {
      assert.throws(
        () => consoleAccessFrom(loadConsoleConfig({ env }).console),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
        JSON.stringify(env),
      );
    }
  });

  it('is documented in the configuration table of the docs', () => {
    assertDocsDocumentConfig(consoleSchema, path.resolve(__dirname, '../../../../docs/configuration.md'));
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

  it('refuses to start on a non-loopback address without a token (exit 78, naming the setting), before connecting', async () => {
    const run = await runCli(['console', '--host', '0.0.0.0'], { CONSOLE_TOKEN: '', CONSOLE_TOKEN_FILE: '' });
    assert.equal(run.code, 78, run.stderr);
    assert.match(
      run.stderr,
      /CONSOLE_TOKEN.*required when the console binds a non-loopback address \(0\.0\.0\.0\)/,
    );
  });
});
