import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommanderError, InvalidArgumentError } from 'commander';
import { UsageError } from '../../publish';
import { parseLoadArgs } from '../command';
import { collectRampStage, parseDurationMs, parseRampStage, parseSandboxName } from '../options';

describe('load options', () => {
  it('reads durations as k6 writes them', () => {
    assert.equal(parseDurationMs('500ms'), 500);
    assert.equal(parseDurationMs('30s'), 30_000);
    assert.equal(parseDurationMs('2m'), 120_000);
    assert.equal(parseDurationMs('1m30s'), 90_000);
    assert.equal(parseDurationMs('1.5s'), 1500);
    assert.equal(parseDurationMs('45'), 45_000, 'a bare number is seconds');
    for (const bad of ['', '0s', '-1s', '10 parsecs', 's', '7h']) {
      assert.throws(() => parseDurationMs(bad), InvalidArgumentError, bad);
    }
  });

  it('reads ramp stages, flat or linear, and collects them in order', () => {
    assert.deepEqual(parseRampStage('10..200/60s'), { from: 10, to: 200, durationMs: 60_000 });
    assert.deepEqual(parseRampStage('50/30s'), { from: 50, to: 50, durationMs: 30_000 });
    assert.deepEqual(parseRampStage('200..0/1m'), { from: 200, to: 0, durationMs: 60_000 });
    assert.deepEqual(collectRampStage('5/1s', collectRampStage('1..5/2s')), [
      { from: 1, to: 5, durationMs: 2000 },
      { from: 5, to: 5, durationMs: 1000 },
    ]);
    for (const bad of ['10..200', '/60s', 'x..2/1s', '0..0/10s', '10..200/0s', '1..2000000/1s']) {
      assert.throws(() => parseRampStage(bad), InvalidArgumentError, bad);
    }
  });

  it('accepts sandbox names Signadot accepts, "baseline" included', () => {
    assert.equal(parseSandboxName('pr-101'), 'pr-101');
    assert.equal(parseSandboxName('baseline'), 'baseline');
    for (const bad of ['1pr', 'pr_101', 'a'.repeat(31), '']) {
      assert.throws(() => parseSandboxName(bad), InvalidArgumentError, bad);
    }
  });
});

describe('parseLoadArgs', () => {
  it('reads a command line as the CLI does, with the schedule it asks for', () => {
    const { flags, schedule } = parseLoadArgs([
      '--baseline',
      '--sandbox',
      'pr-101',
      '--routing-key',
      'k7x2m9p4q1w8z',
      '--rate',
      '5',
      '--duration',
      '2s',
      '--threshold',
      'p99<1s',
    ]);
    assert.equal(flags.baseline, true);
    assert.deepEqual(flags.sandbox, ['pr-101']);
    assert.deepEqual(flags.routingKey, ['k7x2m9p4q1w8z']);
    assert.equal(schedule.size, 10);
    assert.equal(flags.drainTimeout, 30_000);
    assert.equal(parseLoadArgs([]).schedule.size, 300, 'default: 10/s for 30 s');
    assert.equal(parseLoadArgs(['--ramp', '0..10/2s', '--ramp', '10/1s']).schedule.size, 20);
  });

  it('refuses --ramp together with --rate, and unknown options', () => {
    assert.throws(() => parseLoadArgs(['--ramp', '1..2/1s', '--rate', '3']), UsageError);
    assert.throws(() => parseLoadArgs(['--sandbox', 'Bad_Name']), CommanderError);
    assert.throws(() => parseLoadArgs(['--rate-per-owner', '3']), CommanderError);
  });
});
