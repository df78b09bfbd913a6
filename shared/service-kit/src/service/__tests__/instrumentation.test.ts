import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

/** Runs a small script in a fresh node process (the --require entry acts on a whole process). */
function node(script: string, env: NodeJS.ProcessEnv = {}, preload?: string) {
  const { NODE_TEST_CONTEXT: _context, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [...(preload ? ['--require', preload] : []), '-e', script], {
    env: { ...inherited, OTEL_TRACES_EXPORTER: 'none', ...env },
    encoding: 'utf8',
    cwd: __dirname,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const INSTRUMENTATION = path.resolve(__dirname, '../instrumentation.js');

describe('instrument (the --require entry of a service)', () => {
  it('loads no kafkajs itself, and a kafkajs loaded after it is instrumented', () => {
    const run = node(
      `
      const { instrument } = require(${JSON.stringify(INSTRUMENTATION)});
      instrument({ serviceName: 'probe' });
      const loaded = Object.keys(require.cache).some((file) => file.includes('/node_modules/kafkajs/'));
      const { Kafka } = require('kafkajs');
      const producer = new Kafka({ brokers: ['127.0.0.1:1'] }).producer();
      // The instrumentation wraps send (shimmer marks wrapped functions); an unpatched one has no mark.
      console.log(JSON.stringify({ loaded, patched: producer.send.__wrapped === true }));
      `,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { loaded: false, patched: true });
  });

  it('starts once per process: a second call returns the running telemetry', () => {
    const run = node(
      `
      const { instrument, installedTelemetry } = require(${JSON.stringify(INSTRUMENTATION)});
      const first = instrument({ serviceName: 'probe' });
      console.log(first === instrument({ serviceName: 'other' }) && first === installedTelemetry());
      `,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'true');
  });

  it('stops the process with 78 and a message naming the setting when telemetry settings are invalid', () => {
    const run = node(`require(${JSON.stringify(INSTRUMENTATION)}).instrument({ serviceName: 'probe' })`, {
      OTEL_TRACES_EXPORTER: 'zipkin',
    });
    assert.equal(run.code, 78);
    assert.match(run.stderr, /tracesExporter \(env OTEL_TRACES_EXPORTER\)/);
  });

  it("a service's main started without the entry starts telemetry itself and says so", () => {
    const run = node(
      `
      const { serviceTelemetry } = require(${JSON.stringify(INSTRUMENTATION)});
      console.log(serviceTelemetry({ serviceName: 'probe' }, './probe/dist/instrument.js').exporting);
      `,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'false');
    assert.match(run.stderr, /started without `node --require \.\/probe\/dist\/instrument\.js`/);
  });

  it('a service started with the entry says nothing', () => {
    const preload = path.join(__dirname, 'preload-probe.js');
    const run = node(
      `
      const { serviceTelemetry } = require(${JSON.stringify(INSTRUMENTATION)});
      serviceTelemetry({ serviceName: 'probe' }, './probe/dist/instrument.js');
      `,
      {},
      preload,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
  });
});
