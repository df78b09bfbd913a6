import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { freePort, runProcess } from '@sandbox-routing/testkit';

const INSTRUMENT = path.resolve(__dirname, '../instrument.js');
const MAIN = path.resolve(__dirname, '../main.js');

// Kafka unreachable at start is the point here: every address is a free port nothing listens on.
describe('ingress with no Kafka at start', () => {
  it('exits 1 after one JSON line naming the brokers and how long it tried, and nothing but JSON', async () => {
    const deadBrokers = `127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const run = await runProcess(process.execPath, ['--require', INSTRUMENT, MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        KAFKA_BROKERS: deadBrokers,
        TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
        SIGNADOT_ROUTESERVER_URL: `http://127.0.0.1:${await freePort()}`,
        SIGNADOT_ROUTESERVER_GRPC_ADDRESS: '',
        HTTP_PORT: String(await freePort()),
        LOG_LEVEL: 'info',
      },
      inheritEnv: false,
      timeoutMs: 90_000,
    });
    const elapsedMs = Date.now() - started;
    assert.equal(run.code, 1, run.stderr);
    const lines = `${run.stdout}${run.stderr}`.split('\n').filter((line) => line.trim() !== '');
    const records: Record<string, unknown>[] = [];
    for (const line of lines) {
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        assert.fail(`not a JSON log line: ${line}`);
      }
    }
    const fatal = records.filter((r) => typeof r.level === 'number' && r.level >= 50);
    assert.equal(fatal.length, 1, JSON.stringify(fatal));
    const [line] = fatal;
    assert.match(String(line?.msg), /^Kafka unreachable at start/);
    assert.deepEqual(line?.brokers, [deadBrokers]);
    assert.equal(typeof line?.triedMs, 'number');
    assert.ok((line?.triedMs as number) > 0 && (line?.triedMs as number) <= elapsedMs, String(line?.triedMs));
    assert.doesNotMatch(JSON.stringify(line), /\\n\s+at /, 'no stack trace');
  });
});
