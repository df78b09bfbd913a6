import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '@sandbox-routing/testkit';
import type { Launcher } from '../launcher';
import { startService, stopService } from '../service-process';

/**
 * A service stand-in: ready at once; on SIGTERM it writes its last words to stderr, closes stderr,
 * then writes its last stdout line a moment later and exits (so stderr ends first).
 */
const SERVICE = `
  const http = require('node:http');
  const fs = require('node:fs');
  http.createServer((_, res) => res.end('ok')).listen(Number(process.env.HTTP_PORT), '127.0.0.1');
  console.log(JSON.stringify({ msg: 'service starting' }));
  process.on('SIGTERM', () => {
    process.stderr.write('stderr: last words\\n');
    fs.closeSync(2);
    setTimeout(() => {
      process.stdout.write(JSON.stringify({ msg: 'service stopped' }) + '\\n');
      process.exit(0);
    }, 100);
  });
`;

const scriptLauncher: Launcher = {
  launch: (_entry, _args, env) => ({
    command: process.execPath,
    args: ['-e', SERVICE],
    cwd: __dirname,
    env: { PATH: process.env.PATH, ...env },
  }),
  launchPython: () => {
    throw new Error('not used here');
  },
};

describe('the harness keeps everything a service printed', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'service-log-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its last stdout and stderr lines in the log, whichever stream ends first', async () => {
    const service = await startService({
      name: 'probe',
      entry: 'unused.js',
      env: {},
      httpPort: await freePort(),
      logDir: dir,
      launcher: scriptLauncher,
    });
    assert.equal(await stopService(service), 0);
    await service.logClosed;
    const log = readFileSync(service.logFile, 'utf8');
    assert.match(log, /service starting/);
    assert.match(log, /stderr: last words/);
    assert.match(log, /service stopped/);
  });
});
