import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

const LOGGER = path.resolve(__dirname, '../logger.js');

/** Runs `script` in a fresh node process: Node's own warning printer is per process. */
function node(script: string) {
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
  const result = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', cwd: __dirname });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('logProcessWarnings', () => {
  it('writes a process warning as one JSON line through the logger, and nothing to stderr', () => {
    const run = node(`
      const { createLogger, logProcessWarnings } = require(${JSON.stringify(LOGGER)});
      const logger = createLogger({ logLevel: 'info', serviceName: 'probe' });
      logProcessWarnings(logger);
      // What an emitter with too many listeners emits (an AbortSignal warns so on Node 20 only).
      const emitter = new (require('node:events'))();
      for (let i = 0; i < 11; i++) emitter.on('abort', () => {});
    `);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 1, run.stdout);
    const line = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(line.level, 40);
    assert.equal(line.service, 'probe');
    assert.equal(line.warning, 'MaxListenersExceededWarning');
    assert.match(String(line.msg), /11 abort listeners/);
  });

  it('gives the printers back when undone', () => {
    const run = node(`
      const { createLogger, logProcessWarnings } = require(${JSON.stringify(LOGGER)});
      const undo = logProcessWarnings(createLogger({ logLevel: 'info', serviceName: 'probe' }));
      undo();
      process.emitWarning('plain again', 'ProbeWarning');
    `);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /ProbeWarning: plain again/);
  });
});
