import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import {
  collectHeader,
  MAX_COUNT,
  parseCount,
  parseHeader,
  parseRate,
  parseRoutingKey,
  parseTopic,
} from '../options';
import {
  parsePayloadJson,
  payloadFromFile,
  payloadFromJson,
  payloadFromTemplate,
  sampleOrder,
} from '../payload';

/** Asserts that `fn` throws commander's InvalidArgumentError with a message matching `pattern`. */
function assertInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('payload: --template', () => {
  const template = '{"orderId":"{{id}}","qty":{{seq}},"ref":"order-{{ seq }}","nested":{"ids":["{{id}}"]}}';

  it('expands {{seq}} as a number and {{id}} inside strings, per event', () => {
    const expand = payloadFromTemplate(template);
    assert.deepEqual(expand({ seq: 7, id: 'demo-7' }), {
      orderId: 'demo-7',
      qty: 7,
      ref: 'order-7',
      nested: { ids: ['demo-7'] },
    });
    assert.deepEqual(expand({ seq: 8, id: 'demo-8' }).qty, 8);
  });

  it('escapes the id as JSON string content', () => {
    const expand = payloadFromTemplate('{"id":"{{id}}"}');
    assert.deepEqual(expand({ seq: 1, id: 'a"b\\c' }), { id: 'a"b\\c' });
  });

  it('names unknown placeholders and lists the known ones', () => {
    assertInvalid(
      () => payloadFromTemplate('{"n":{{sequence}}}'),
      /unknown placeholder \{\{sequence\}\}.*\{\{seq\}\}, \{\{id\}\}/,
    );
  });

  it('refuses a template that is not a JSON object once expanded', () => {
    assertInvalid(
      () => payloadFromTemplate('{"n":{{seq}}'),
      /after expanding placeholders \(seq 1\): not valid JSON/,
    );
    assertInvalid(() => payloadFromTemplate('[{{seq}}]'), /expected a JSON object, got an array/);
  });

  it('accepts a template without placeholders (the same payload each time)', () => {
    assert.deepEqual(payloadFromTemplate('{"a":1}')({ seq: 3, id: 'x' }), { a: 1 });
  });
});

describe('payload: --payload and --payload-file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'producer-payload-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parses a JSON object and gives each event its own copy', () => {
    const make = payloadFromJson('{"orderId":"o-1","items":[{"sku":"A","qty":1}]}');
    const first = make({ seq: 1, id: 'a' });
    (first.items as { qty: number }[])[0]!.qty = 99;
    assert.deepEqual(make({ seq: 2, id: 'b' }), { orderId: 'o-1', items: [{ sku: 'A', qty: 1 }] });
  });

  it('refuses invalid JSON and JSON that is not an object', () => {
    assertInvalid(() => parsePayloadJson('{orderId: 1}'), /not valid JSON/);
    assertInvalid(() => parsePayloadJson('[]'), /expected a JSON object, got an array/);
    assertInvalid(() => parsePayloadJson('null'), /got null/);
    assertInvalid(() => parsePayloadJson('"text"'), /got a string/);
  });

  it('reads a payload file', () => {
    const file = path.join(dir, 'order.json');
    writeFileSync(file, '{\n  "orderId": "from-file",\n  "amount": 12.5\n}\n');
    assert.deepEqual(payloadFromFile(file)({ seq: 1, id: 'x' }), { orderId: 'from-file', amount: 12.5 });
  });

  it('names the file when it is missing or not a JSON object', () => {
    assertInvalid(
      () => payloadFromFile(path.join(dir, 'missing.json')),
      /cannot read .*missing\.json \(ENOENT\)/,
    );
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"unterminated":');
    assertInvalid(() => payloadFromFile(bad), /bad\.json: not valid JSON/);
  });

  it('has a sample order by default that varies with the sequence number', () => {
    const one = sampleOrder({ seq: 1, id: 'x' });
    assert.deepEqual(Object.keys(one).sort(), ['amount', 'items', 'orderId', 'seq']);
    assert.equal(one.orderId, 'order-1');
    assert.notDeepEqual(sampleOrder({ seq: 2, id: 'y' }), one);
  });
});

describe('options: --header', () => {
  it('splits at the first "=" (the value may contain "=" and ",")', () => {
    assert.deepEqual(parseHeader('x-test=a=b,c'), ['x-test', 'a=b,c']);
    assert.deepEqual(parseHeader('x-empty='), ['x-empty', '']);
  });

  it('keeps every value of a repeated header, in order', () => {
    let headers = collectHeader('x-a=1');
    headers = collectHeader('x-b=2', headers);
    headers = collectHeader('x-a=3', headers);
    assert.deepEqual(headers, { 'x-a': ['1', '3'], 'x-b': '2' });
  });

  it('refuses baggage and traceparent in any case, pointing at --routing-key', () => {
    for (const header of ['baggage=sd-routing-key=k1', 'Baggage=x', 'traceparent=00-abc', 'TRACEPARENT=x']) {
      assertInvalid(() => parseHeader(header), /written by OpenTelemetry.*--routing-key/);
    }
  });

  it('allows the other routing-key carriers, for testing them', () => {
    assert.deepEqual(parseHeader('tracestate=sd-routing-key=k1'), ['tracestate', 'sd-routing-key=k1']);
    assert.deepEqual(parseHeader('uberctx-sd-routing-key=k1'), ['uberctx-sd-routing-key', 'k1']);
  });

  it('refuses a missing "=" and names that are not tokens', () => {
    assertInvalid(() => parseHeader('x-test'), /expected name=value/);
    assertInvalid(() => parseHeader('=value'), /not a valid token/);
    assertInvalid(() => parseHeader('bad name=1'), /not a valid token/);
  });
});

describe('options: --routing-key, --count, --rate, --topic', () => {
  it('accepts valid routing keys and treats "" as no key', () => {
    assert.equal(parseRoutingKey('k7x2m9p4q1w8z'), 'k7x2m9p4q1w8z');
    assert.equal(parseRoutingKey('rg-checkout.v2_1'), 'rg-checkout.v2_1');
    assert.equal(parseRoutingKey(''), undefined);
  });

  it('refuses invalid routing keys', () => {
    for (const key of ['-leading-dash', 'has space', 'a,b', 'k=v', 'x'.repeat(65), 'ünïcode']) {
      assertInvalid(() => parseRoutingKey(key), /expected 1-64 characters/);
    }
  });

  it('parses --count within bounds', () => {
    assert.equal(parseCount('1'), 1);
    assert.equal(parseCount(String(MAX_COUNT)), MAX_COUNT);
    for (const text of ['0', '-1', '1.5', 'ten', '', String(MAX_COUNT + 1), '1e3']) {
      assertInvalid(() => parseCount(text), /whole number/);
    }
  });

  it('parses --rate as a positive bounded number', () => {
    assert.equal(parseRate('0.5'), 0.5);
    assert.equal(parseRate('200'), 200);
    for (const text of ['0', '-3', 'fast', '', 'Infinity', '100001']) {
      assertInvalid(() => parseRate(text), /events per second/);
    }
  });

  it('checks --topic as a Kafka topic name', () => {
    assert.equal(parseTopic('events.replay'), 'events.replay');
    assertInvalid(() => parseTopic('bad/topic'), /letters, digits/);
  });
});
