import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { evaluateThresholds, type MetricSource, parseThreshold } from '../thresholds';

function source(overrides: Partial<MetricSource['counts']> = {}, p99 = 700): MetricSource {
  return {
    counts: {
      sent: 100,
      send_failures: 0,
      send_retried: 0,
      decided: 100,
      started: 100,
      completed: 100,
      failed: 0,
      dead_lettered: 0,
      misrouted: 0,
      unfinished: 0,
      duplicates: 0,
      ...overrides,
    },
    rates: { rate: 49.5, sent_rate: 50 },
    percentile: (p) => (p >= 99 ? p99 : p * 5),
    latency: { min: 80, max: 950, avg: 300 },
  };
}

describe('thresholds', () => {
  it('parses k6-style expressions: percentiles in both spellings, units, owners, every operator', () => {
    assert.deepEqual(parseThreshold('p99<800ms'), {
      expression: 'p99<800ms',
      metric: { kind: 'latency', percentile: 99 },
      owner: null,
      operator: '<',
      value: 800,
    });
    assert.deepEqual(parseThreshold(' p(99.9) <= 1.5s ').metric, { kind: 'latency', percentile: 99.9 });
    assert.equal(parseThreshold('p(99.9)<=1.5s').value, 1500);
    assert.deepEqual(parseThreshold('p95{owner:pr-101}<1s').owner, 'pr-101');
    assert.deepEqual(parseThreshold('unfinished==0').metric, { kind: 'count', name: 'unfinished' });
    assert.deepEqual(parseThreshold('dead_lettered==0').metric, { kind: 'count', name: 'dead_lettered' });
    assert.deepEqual(parseThreshold('rate>=45').metric, { kind: 'rate', name: 'rate' });
    assert.deepEqual(parseThreshold('med<300').metric, { kind: 'latency', percentile: 50 });
    assert.equal(parseThreshold('misrouted!=1').operator, '!=');
  });

  it('refuses what it cannot check, naming the accepted form', () => {
    for (const bad of ['p99', 'p99<', 'p0<1', 'p101<1', 'unfinished==0ms', 'latency<1s', 'p99<fast', '<1']) {
      assert.throws(() => parseThreshold(bad), InvalidArgumentError, bad);
    }
    // Renamed: "lost" said of events that were only late.
    assert.throws(() => parseThreshold('lost==0'), /"lost" is now "unfinished" \(sent, no outcome seen/);
    assert.throws(() => parseThreshold('nope<1'), /METRIC\[\{owner:NAME\}\] OP VALUE/);
  });

  it('checks against the whole run or one owner, and fails what cannot be measured', () => {
    const thresholds = [
      'p99<800ms',
      'unfinished==0',
      'p99{owner:pr-101}<800ms',
      'rate>=50',
      'max<1s',
      'p99{owner:gone}<1s',
    ].map(parseThreshold);
    const owners = new Map([['pr-101', source({ unfinished: 2 }, 900)]]);
    assert.deepEqual(
      evaluateThresholds(thresholds, source(), owners).map((r) => [r.expression, r.actual, r.ok]),
      [
        ['p99<800ms', 700, true],
        ['unfinished==0', 0, true],
        ['p99{owner:pr-101}<800ms', 900, false],
        ['rate>=50', 49.5, false],
        ['max<1s', 950, true],
        ['p99{owner:gone}<1s', null, false],
      ],
    );
    const empty = { ...source(), percentile: () => Number.NaN };
    assert.deepEqual(evaluateThresholds([parseThreshold('p99<1s')], empty, new Map())[0], {
      expression: 'p99<1s',
      owner: null,
      actual: null,
      ok: false,
    });
  });
});
