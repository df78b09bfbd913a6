import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pollUntil } from '@sandbox-routing/testkit';
import { isOurs, startDetached, stopProcess } from '../processes';

const dir = mkdtempSync(path.join(tmpdir(), 'stack-proc-'));

/** A stand-in server: a node process that prints a line and runs until signalled. */
function serverSpec(name: string, script: string) {
  return {
    command: process.execPath,
    args: ['-e', script, '--', `--marker=${name}`],
    cwd: dir,
    logFile: path.join(dir, `${name}.log`),
    marker: `--marker=${name}`,
  };
}

describe('stack process supervision', () => {
  it('starts a detached server, logs to its file, and stops exactly that PID on SIGTERM', async () => {
    const proc = await startDetached(serverSpec('polite', "console.log('up'); setInterval(() => {}, 1000)"));
    assert.ok(isOurs(proc));
    await pollUntil(() => readFileSync(proc.logFile, 'utf8').includes('up'), {
      description: 'log line',
      timeoutMs: 5000,
    });
    assert.equal(await stopProcess(proc), 'stopped');
    assert.equal(isOurs(proc), false);
  });

  it('kills a server that ignores SIGTERM after the grace period', async () => {
    const proc = await startDetached(
      serverSpec(
        'stubborn',
        "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)",
      ),
    );
    await pollUntil(() => readFileSync(proc.logFile, 'utf8').includes('up'), {
      description: 'log line',
      timeoutMs: 5000,
    });
    assert.equal(await stopProcess(proc, 300), 'killed');
    assert.equal(isOurs(proc), false);
  });

  it('never signals a PID whose command line is not the one it started', async () => {
    const proc = await startDetached(serverSpec('victim', 'setInterval(() => {}, 1000)'));
    const impostor = { ...proc, marker: '--marker=something-else' };
    assert.equal(await stopProcess(impostor), 'not-running');
    assert.ok(isOurs(proc), 'the real process must still run');
    assert.equal(await stopProcess(proc), 'stopped');
  });
});
