import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type convict from 'convict';
import type { Schema } from 'convict';
import { ConfigError, loadConfig, trailSchema } from '..';
import { CUSTOM_FORMATS } from '../formats';

/**
 * Every format a setting can have: a valid default, a value the user might mistype, and what the message
 * must say is expected (with its unit, where the format has one).
 */
interface FormatCase {
  format: convict.SchemaObj['format'];
  valid: unknown;
  bad: string;
  says: RegExp;
}

const customCases: Record<string, Omit<FormatCase, 'format'>> = {
  'host-port-list': { valid: ['a:1'], bad: 'kafka', says: /comma-separated list of host:port/ },
  'host-port': { valid: 'a:1', bad: 'temporal', says: /must be host:port/ },
  'optional-host-port': { valid: '', bad: 'http://a:1', says: /must be empty or host:port/ },
  'http-url': { valid: 'http://a', bad: 'a:80', says: /must be an http\(s\) URL/ },
  'optional-http-url': { valid: '', bad: 'collector:4318', says: /must be empty or an http\(s\) URL/ },
  'dns-label': { valid: 'a', bad: 'Orders', says: /DNS-1123 label/ },
  'dns-subdomain': { valid: 'a', bad: 'a_b', says: /DNS-1123 subdomain/ },
  'sandbox-name': { valid: '', bad: '9lives', says: /Signadot sandbox name/ },
  'kafka-name': { valid: 'a', bad: 'a b', says: /letters, digits, "\.", "_" and "-"/ },
  'strict-boolean': { valid: true, bad: 'flase', says: /must be true or false/ },
  'positive-ms': { valid: 1, bad: 'soon', says: /whole number of milliseconds above 0/ },
  'positive-bytes': { valid: 1, bad: '1.5', says: /whole number of bytes above 0/ },
  'positive-int': { valid: 1, bad: 'abc', says: /must be a whole number above 0/ },
};

/** convict's own formats the schemas use. */
const builtinCases: Record<string, FormatCase> = {
  port: { format: 'port', valid: 80, bad: '70000', says: /within range 0 - 65535/ },
  enumeration: {
    format: ['a', 'b'],
    valid: 'a',
    bad: 'purple',
    says: /one of the possible values: \["a","b"\]/,
  },
};

const cases: [string, FormatCase][] = [
  ...Object.entries(customCases).map(([name, c]): [string, FormatCase] => [name, { format: name, ...c }]),
  ...Object.entries(builtinCases),
];

function oneSetting(c: FormatCase, sensitive = false): Schema<{ x: unknown }> {
  return { x: { doc: 'x', format: c.format, default: c.valid, env: 'THE_SETTING', sensitive } };
}

function rejection(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('the value was accepted');
}

describe('configuration formats', () => {
  it('has a case for every custom format', () => {
    assert.deepEqual(Object.keys(customCases).sort(), Object.keys(CUSTOM_FORMATS).sort());
  });

  for (const [name, c] of cases) {
    it(`${name}: says what is expected and echoes the rejected value`, () => {
      assert.doesNotThrow(() => loadConfig(oneSetting(c), { env: {} }), 'the valid default loads');
      const error = rejection(() => loadConfig(oneSetting(c), { env: { THE_SETTING: c.bad } }));
      const message = error.problems[0]?.message ?? '';
      assert.match(message, c.says);
      assert.ok(message.endsWith(`, got ${JSON.stringify(c.bad)}`), message);
    });

    it(`${name}: keeps a sensitive setting's value out of the message`, () => {
      const error = rejection(() => loadConfig(oneSetting(c, true), { env: { THE_SETTING: c.bad } }));
      assert.match(error.message, c.says);
      assert.ok(!error.message.includes(c.bad), error.message);
    });
  }

  it('names no unit for counts, and the right one for durations and sizes', () => {
    for (const [format, unit] of [
      ['positive-int', undefined],
      ['positive-ms', 'milliseconds'],
      ['positive-bytes', 'bytes'],
    ] as const) {
      for (const bad of ['abc', '-5', '0', '', '2.5', '12abc']) {
        const error = rejection(() =>
          loadConfig(oneSetting({ format, valid: 1, bad, says: /./ }), { env: { THE_SETTING: bad } }),
        );
        const message = error.problems[0]?.message ?? '';
        if (unit) assert.match(message, new RegExp(`of ${unit} above 0`));
        for (const wrong of ['milliseconds', 'bytes'].filter((u) => u !== unit)) {
          assert.doesNotMatch(message, new RegExp(wrong));
        }
        assert.ok(message.endsWith(`, got ${JSON.stringify(bad)}`), message);
      }
    }
  });

  it('echoes a falsy value from a file (0, false, "")', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'formats-'));
    const file = path.join(dir, 'settings.json');
    writeFileSync(file, JSON.stringify({ x: 0 }));
    const c: FormatCase = { format: 'positive-int', valid: 1, bad: '', says: /./ };
    const error = rejection(() => loadConfig(oneSetting(c), { env: {}, file }));
    assert.equal(error.problems[0]?.message, 'must be a whole number above 0, got 0');
  });

  it('says what the issue reported right: TRAIL_BUFFER_SIZE=-5 is a count', () => {
    const error = rejection(() => loadConfig({ trail: trailSchema() }, { env: { TRAIL_BUFFER_SIZE: '-5' } }));
    assert.equal(
      error.message,
      'Invalid configuration:\n  - trail.bufferSize (env TRAIL_BUFFER_SIZE): must be a whole number above 0, got "-5"',
    );
  });
});
