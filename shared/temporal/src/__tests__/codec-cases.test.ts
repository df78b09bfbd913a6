import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import {
  contextWithRoutingKey,
  extractRoutingKey,
  formatBaggage,
  type HeaderMap,
  headerValues,
  InvalidRoutingKeyError,
  isValidRoutingKey,
  lookUpRoutingKey,
  parseBaggage,
  type RoutingKeyMatch,
  routingKeyFromContext,
} from '@sandbox-routing/core';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  lookUpTemporalRoutingKey,
  routingKeyFromTemporalHeaders,
  type TemporalHeaders,
  withoutTracerDataKey,
  withRoutingKeyHeader,
  withTracerDataKey,
} from '../key-headers';

const K = '4835rlwxwbwyl';
const K2 = 'ltj9s8scupb86';
const K3 = 'vf0ju8vw50wpu';
const K4 = 'routegroup-key.1_a';
const K5 = 'k5k5k5k5k5k5k';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const found = (key: string, carrier: RoutingKeyMatch['carrier']): RoutingKeyMatch => ({ key, carrier });
const members = (count: number, prefix = 'm'): string =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}=${i}`).join(',');

interface Case {
  name: string;
  headers: HeaderMap | undefined;
  expected: RoutingKeyMatch | undefined;
}

const cases: Case[] = [
  // --- nothing there
  { name: 'no headers at all', headers: undefined, expected: undefined },
  { name: 'empty header map', headers: {}, expected: undefined },
  {
    name: 'unrelated headers only',
    headers: { traceparent: '00-abc-def-01', 'x-foo': K },
    expected: undefined,
  },
  { name: 'empty baggage header', headers: { baggage: '' }, expected: undefined },

  // --- W3C baggage syntax (https://www.w3.org/TR/baggage/)
  {
    name: 'baggage: canonical member',
    headers: { baggage: `sd-routing-key=${K}` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'baggage: OWS (spaces) around member, key, = and value',
    headers: { baggage: `  userId = alice ,   sd-routing-key   =   ${K}   ` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'baggage: tabs are OWS too',
    headers: { baggage: `\tsd-routing-key\t=\t${K}\t,\tx=1` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'baggage: properties after ; are not part of the value',
    headers: { baggage: `sd-routing-key=${K};ttl=60;internal` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'baggage: OWS around ; and inside properties',
    headers: { baggage: `sd-routing-key = ${K} ; p1 ;\tp2 = v2` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'baggage: trailing ; is tolerated',
    headers: { baggage: `sd-routing-key=${K};` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'baggage: malformed property makes the member malformed',
    headers: { baggage: `sd-routing-key=${K};p=a b` },
    expected: undefined,
  },
  {
    name: 'baggage: percent-encoded value is decoded',
    headers: { baggage: 'sd-routing-key=abc%2Ddef' },
    expected: found('abc-def', 'baggage'),
  },
  {
    name: 'baggage: lowercase hex in percent-encoding',
    headers: { baggage: 'sd-routing-key=abc%2ddef%2e1' },
    expected: found('abc-def.1', 'baggage'),
  },
  {
    name: 'baggage: invalid percent-encoding skips that member only',
    headers: { baggage: `sd-routing-key=abc%ZZ,sd-sandbox=${K2}` },
    expected: found(K2, 'baggage:sd-sandbox'),
  },
  {
    name: 'baggage: truncated percent-encoding',
    headers: { baggage: 'sd-routing-key=abc%2' },
    expected: undefined,
  },
  {
    name: 'baggage: percent-encoded invalid UTF-8 (%FF) is skipped',
    headers: { baggage: 'sd-routing-key=%FFabc' },
    expected: undefined,
  },
  {
    name: 'baggage: empty members are skipped',
    headers: { baggage: `a=1,,  ,\t,sd-routing-key=${K},` },
    expected: found(K, 'baggage'),
  },
  { name: 'baggage: only commas', headers: { baggage: ',,,' }, expected: undefined },
  {
    name: 'baggage: member without = is skipped',
    headers: { baggage: `sd-routing-key ${K},sd-sandbox=${K2}` },
    expected: found(K2, 'baggage:sd-sandbox'),
  },
  {
    name: 'baggage: invalid key token (space inside) is skipped',
    headers: { baggage: `sd routing-key=${K}` },
    expected: undefined,
  },
  {
    name: 'baggage: quoted key is not a token',
    headers: { baggage: `"sd-routing-key"=${K}` },
    expected: undefined,
  },
  {
    name: 'baggage: keys are case-sensitive',
    headers: { baggage: `SD-ROUTING-KEY=${K}` },
    expected: undefined,
  },
  {
    name: 'baggage: empty value is no key; the next carrier is used',
    headers: { baggage: 'sd-routing-key=', tracestate: `sd-routing-key=${K3}` },
    expected: found(K3, 'tracestate'),
  },
  {
    name: 'baggage: value containing = is kept whole (and is not a valid key)',
    headers: { baggage: 'sd-routing-key=a=b' },
    expected: undefined,
  },
  {
    name: 'baggage: spec example with other members first',
    headers: { baggage: `userId=alice,serverNode=DF%2028,isProduction=false,sd-routing-key=${K}` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'baggage: duplicate key, last occurrence wins (as OpenTelemetry extracts it)',
    headers: { baggage: `sd-routing-key=${K},sd-routing-key=${K2}` },
    expected: found(K2, 'baggage'),
  },
  {
    name: 'baggage: last occurrence invalid → next carrier (not an earlier occurrence)',
    headers: { baggage: `sd-routing-key=${K2},sd-routing-key=bad/key,sd-sandbox=${K3}` },
    expected: found(K3, 'baggage:sd-sandbox'),
  },

  // --- limits: 180 members, 8192 bytes
  {
    name: 'limits: key as the 180th member is read',
    headers: { baggage: `${members(179)},sd-routing-key=${K}` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'limits: key as the 181st member is ignored',
    headers: { baggage: `${members(180)},sd-routing-key=${K}` },
    expected: undefined,
  },
  {
    name: 'limits: malformed members do not count towards 180',
    headers: {
      baggage: `${Array.from({ length: 200 }, (_, i) => `junk${i}`).join(',')},sd-routing-key=${K}`,
    },
    expected: found(K, 'baggage'),
  },
  {
    name: 'limits: >8192 bytes, key before the cut',
    headers: { baggage: `sd-routing-key=${K},pad=${'a'.repeat(9000)}` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'limits: >8192 bytes, key after the cut',
    headers: { baggage: `pad=${'a'.repeat(9000)},sd-routing-key=${K}` },
    expected: undefined,
  },
  {
    name: 'limits: key member ending exactly at byte 8192 is read',
    headers: { baggage: `pad=${'a'.repeat(8159)},sd-routing-key=${K}` }, // 4 + 8159 + 1 + 28 = 8192
    expected: found(K, 'baggage'),
  },
  {
    name: 'limits: key member ending at byte 8193 is dropped',
    headers: { baggage: `pad=${'a'.repeat(8160)},sd-routing-key=${K}` },
    expected: undefined,
  },
  {
    name: 'limits: bytes are UTF-8 bytes, not UTF-16 units',
    headers: { baggage: `junk=${'é'.repeat(4080)},sd-routing-key=${K}` }, // 5 + 8160 + 1 + 28 > 8192
    expected: undefined,
  },
  {
    name: 'limits: the 8192 bytes span repeated headers',
    headers: { baggage: [`pad=${'a'.repeat(8170)}`, `sd-routing-key=${K}`] },
    expected: undefined,
  },
  {
    name: 'limits: a cut baggage falls through to later carriers',
    headers: { baggage: `pad=${'a'.repeat(9000)},sd-routing-key=${K}`, 'uberctx-sd-routing-key': K2 },
    expected: found(K2, 'uberctx'),
  },

  // --- every carrier and their order
  {
    name: 'carrier: baggage member sd-sandbox (legacy)',
    headers: { baggage: `sd-sandbox=${K}` },
    expected: found(K, 'baggage:sd-sandbox'),
  },
  {
    name: 'carrier: ot-baggage header',
    headers: { 'ot-baggage-sd-routing-key': K },
    expected: found(K, 'ot-baggage'),
  },
  {
    name: 'carrier: uberctx header',
    headers: { 'uberctx-sd-routing-key': K },
    expected: found(K, 'uberctx'),
  },
  {
    name: 'carrier: tracestate member',
    headers: { tracestate: `sd-routing-key=${K}` },
    expected: found(K, 'tracestate'),
  },
  {
    name: 'order: baggage beats every other carrier',
    headers: {
      tracestate: `sd-routing-key=${K5}`,
      'uberctx-sd-routing-key': K4,
      'ot-baggage-sd-routing-key': K3,
      baggage: `sd-sandbox=${K2},sd-routing-key=${K}`,
    },
    expected: found(K, 'baggage'),
  },
  {
    name: 'order: sd-sandbox beats ot-baggage',
    headers: { 'ot-baggage-sd-routing-key': K3, baggage: `sd-sandbox=${K2}` },
    expected: found(K2, 'baggage:sd-sandbox'),
  },
  {
    name: 'order: ot-baggage beats uberctx',
    headers: { 'uberctx-sd-routing-key': K4, 'ot-baggage-sd-routing-key': K3 },
    expected: found(K3, 'ot-baggage'),
  },
  {
    name: 'order: uberctx beats tracestate',
    headers: { tracestate: `sd-routing-key=${K5}`, 'uberctx-sd-routing-key': K4 },
    expected: found(K4, 'uberctx'),
  },
  {
    name: 'order: an invalid baggage key falls through to ot-baggage',
    headers: { baggage: 'sd-routing-key=not valid%21', 'ot-baggage-sd-routing-key': K3 },
    expected: found(K3, 'ot-baggage'),
  },
  {
    name: 'ot-baggage: OWS trimmed',
    headers: { 'ot-baggage-sd-routing-key': ` \t${K} ` },
    expected: found(K, 'ot-baggage'),
  },
  {
    name: 'ot-baggage: repeated header joined by Node (`k1, k2`) → first',
    headers: { 'ot-baggage-sd-routing-key': `${K}, ${K2}` },
    expected: found(K, 'ot-baggage'),
  },
  {
    name: 'tracestate: other vendors and OWS around members',
    headers: { tracestate: `congo=t61rcWkgMzE, sd-routing-key = ${K} ,rojo=00f067aa0ba902b7` },
    expected: found(K, 'tracestate'),
  },
  {
    name: 'tracestate: malformed members are tolerated',
    headers: { tracestate: `garbage,,=x,;;,sd-routing-key=${K}` },
    expected: found(K, 'tracestate'),
  },
  {
    name: 'tracestate: values are not percent-decoded',
    headers: { tracestate: 'sd-routing-key=abc%2Ddef' },
    expected: undefined,
  },

  // --- Signadot browser extension
  {
    name: 'browser extension: baggage and tracestate with both members',
    headers: {
      baggage: `sd-routing-key=${K},sd-sandbox=${K}`,
      tracestate: `sd-routing-key=${K},sd-sandbox=${K}`,
    },
    expected: found(K, 'baggage'),
  },
  {
    name: 'browser extension (pre-1.9.1): all five headers',
    headers: {
      baggage: `sd-routing-key=${K},sd-sandbox=${K}`,
      tracestate: `sd-routing-key=${K},sd-sandbox=${K}`,
      'ot-baggage-sd-routing-key': K,
      'uberctx-sd-routing-key': K,
    },
    expected: found(K, 'baggage'),
  },

  // --- transports: Buffers, arrays, header-name case
  {
    name: 'kafka: Buffer value',
    headers: { baggage: Buffer.from(`sd-routing-key=${K}`) },
    expected: found(K, 'baggage'),
  },
  {
    name: 'kafka: array of Buffers, key in the second header',
    headers: { baggage: [Buffer.from('a=1,b=2'), Buffer.from(`sd-routing-key=${K}`)] },
    expected: found(K, 'baggage'),
  },
  {
    name: 'http: array of strings (repeated headers)',
    headers: { baggage: ['userId=alice', `serverNode=DF%2028, sd-routing-key = ${K}`] },
    expected: found(K, 'baggage'),
  },
  {
    name: 'kafka: Uint8Array tracestate',
    headers: { tracestate: bytes(`sd-routing-key=${K}`) },
    expected: found(K, 'tracestate'),
  },
  {
    name: 'header name: Baggage',
    headers: { Baggage: `sd-routing-key=${K}` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'header name: BAGGAGE',
    headers: { BAGGAGE: `sd-routing-key=${K}` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'header name: mixed-case ot-baggage',
    headers: { 'OT-Baggage-SD-Routing-Key': K },
    expected: found(K, 'ot-baggage'),
  },
  {
    name: 'header name: Baggage and baggage both used, in map order (last wins)',
    headers: { Baggage: `sd-routing-key=${K}`, baggage: `sd-routing-key=${K2}` },
    expected: found(K2, 'baggage'),
  },
  {
    name: 'header name: baggage and Baggage both used, in map order (reversed)',
    headers: { baggage: `x=1`, Baggage: `sd-routing-key=${K2}` },
    expected: found(K2, 'baggage'),
  },
  {
    name: 'null and undefined values are skipped',
    headers: {
      baggage: null,
      tracestate: undefined,
      'uberctx-sd-routing-key': [null, K] as unknown as string[],
    },
    expected: found(K, 'uberctx'),
  },
  {
    name: 'values of unexpected types are skipped',
    headers: { baggage: 42 as unknown as string, tracestate: { a: 1 } as unknown as string },
    expected: undefined,
  },

  // --- hostile input: never throws, never returns an invalid key
  {
    name: 'hostile: raw newline in value',
    headers: { baggage: 'sd-routing-key=abc\ndef' },
    expected: undefined,
  },
  {
    name: 'hostile: CRLF header injection in baggage',
    headers: { baggage: `sd-routing-key=${K}\r\nX-Injected: 1` },
    expected: undefined,
  },
  {
    name: 'hostile: CRLF injection in a property',
    headers: { baggage: `sd-routing-key=${K};\r\nX-Injected: 1` },
    expected: undefined,
  },
  {
    name: 'hostile: CRLF injection in ot-baggage',
    headers: { 'ot-baggage-sd-routing-key': `${K}\r\nX-Injected: 1` },
    expected: undefined,
  },
  {
    name: 'hostile: trailing LF is not OWS',
    headers: { 'uberctx-sd-routing-key': `${K}\n` },
    expected: undefined,
  },
  {
    name: 'hostile: 10 kB key',
    headers: { baggage: `sd-routing-key=${'a'.repeat(10_240)}` },
    expected: undefined,
  },
  {
    name: 'hostile: 10 kB ot-baggage value',
    headers: { 'ot-baggage-sd-routing-key': 'a'.repeat(10_240) },
    expected: undefined,
  },
  {
    name: 'key length: 64 characters is valid',
    headers: { baggage: `sd-routing-key=${'a'.repeat(64)}` },
    expected: found('a'.repeat(64), 'baggage'),
  },
  {
    name: 'key length: 65 characters is not',
    headers: { baggage: `sd-routing-key=${'a'.repeat(65)}` },
    expected: undefined,
  },
  { name: 'hostile: ../ path', headers: { baggage: 'sd-routing-key=../../etc/passwd' }, expected: undefined },
  {
    name: 'hostile: encoded ../ path',
    headers: { baggage: 'sd-routing-key=..%2F..%2Fetc' },
    expected: undefined,
  },
  { name: 'hostile: raw unicode value', headers: { baggage: 'sd-routing-key=ключ' }, expected: undefined },
  {
    name: 'hostile: encoded unicode value',
    headers: { baggage: 'sd-routing-key=%D0%BA%D0%BB' },
    expected: undefined,
  },
  {
    name: 'hostile: unicode in ot-baggage',
    headers: { 'ot-baggage-sd-routing-key': 'k\u202Eey' },
    expected: undefined,
  },
  {
    name: 'hostile: NBSP is not OWS',
    headers: { baggage: `sd-routing-key=\u00A0${K}` },
    expected: undefined,
  },
  { name: 'hostile: NUL byte', headers: { baggage: `sd-routing-key=${K}\0` }, expected: undefined },
  { name: 'hostile: encoded NUL (%00)', headers: { baggage: `sd-routing-key=${K}%00` }, expected: undefined },
  {
    name: 'hostile: NUL bytes in a Buffer',
    headers: { 'uberctx-sd-routing-key': Uint8Array.from([0x61, 0x00, 0x62]) },
    expected: undefined,
  },
  {
    name: 'hostile: SQL injection text',
    headers: { baggage: "sd-routing-key=x'%20OR%201=1--", tracestate: "sd-routing-key=x';DROP TABLE t;--" },
    expected: undefined,
  },
  {
    name: 'hostile: log injection with %0A encoded newline',
    headers: { baggage: 'sd-routing-key=abc%0Alevel%3Derror%20msg%3Dpwned' },
    expected: undefined,
  },
  {
    name: 'hostile: invalid UTF-8 bytes before a good member',
    headers: { baggage: Uint8Array.from([0xff, 0xfe, 0x2c, ...bytes(`sd-routing-key=${K}`)]) },
    expected: found(K, 'baggage'),
  },
  {
    name: 'hostile: invalid UTF-8 bytes inside the value',
    headers: { baggage: Uint8Array.from([...bytes('sd-routing-key=ab'), 0xc3, 0x28]) },
    expected: undefined,
  },

  // --- a `;property` part inside the decoded value (Python's OpenTelemetry keeps it there)
  {
    name: 'property inside the value: Python re-injects K;prop=1 percent-encoded',
    headers: { baggage: `sd-routing-key=${K}%3Bprop%3D1` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'property inside the value: OWS before the ; is trimmed',
    headers: { baggage: `sd-routing-key=${K}%20%3B%20ttl%3D60` },
    expected: found(K, 'baggage'),
  },
  {
    name: 'property inside the value: the part before ; must still be a key',
    headers: { baggage: 'sd-routing-key=a%20b%3Bprop%3D1' },
    expected: undefined,
  },
  {
    name: 'property inside the value: legacy sd-sandbox member',
    headers: { baggage: `sd-sandbox=${K}%3Bp` },
    expected: found(K, 'baggage:sd-sandbox'),
  },
  {
    name: 'property inside ot-baggage',
    headers: { 'ot-baggage-sd-routing-key': `${K};ttl=60` },
    expected: found(K, 'ot-baggage'),
  },
  {
    name: 'property inside uberctx',
    headers: { 'uberctx-sd-routing-key': `${K};p` },
    expected: found(K, 'uberctx'),
  },
  {
    name: 'property inside tracestate',
    headers: { tracestate: `sd-routing-key=${K};p` },
    expected: found(K, 'tracestate'),
  },
];

describe('extractRoutingKey: header cases', () => {
  test('the table has at least 40 cases', () => {
    assert.ok(cases.length >= 40, `only ${cases.length} cases`);
  });
  for (const { name, headers, expected } of cases) {
    test(name, () => {
      const got = extractRoutingKey(headers);
      assert.deepEqual(got, expected);
      if (got !== undefined) assert.ok(isValidRoutingKey(got.key));
    });
  }
});

describe('headerValues', () => {
  test('normalises strings, Buffers, arrays and case, in map order', () => {
    const headers: HeaderMap = {
      Baggage: [Buffer.from('a=1'), 'b=2'],
      other: 'x',
      BAGGAGE: bytes('c=3'),
      baggage: null,
    };
    assert.deepEqual(headerValues(headers, 'baggage'), ['a=1', 'b=2', 'c=3']);
    assert.deepEqual(headerValues(headers, 'BAGGAGE'), ['a=1', 'b=2', 'c=3']);
    assert.deepEqual(headerValues(undefined, 'baggage'), []);
  });
});

describe('parseBaggage / formatBaggage', () => {
  test('spec example', () => {
    const parsed = parseBaggage(
      'key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue',
    );
    assert.deepEqual(parsed, [
      { key: 'key1', value: 'value1', properties: ['property1', 'property2'] },
      { key: 'key2', value: 'value2', properties: [] },
      { key: 'key3', value: 'value3', properties: ['propertyKey=propertyValue'] },
    ]);
  });
  test('keeps duplicates in order and never throws', () => {
    assert.deepEqual(
      parseBaggage(['a=1', 'a=2']).map((m) => m.value),
      ['1', '2'],
    );
    assert.deepEqual(parseBaggage('%%%,=,;;,a b=c'), []);
  });
  test('formats percent-encoded values that survive any parser', () => {
    const header = formatBaggage([{ key: 'k', value: 'a=b, c;d%e é\n', properties: ['p', 'q = v'] }]);
    assert.equal(header, 'k=a%3Db%2C%20c%3Bd%25e%20%C3%A9%0A;p;q = v');
    assert.deepEqual(parseBaggage(header), [
      { key: 'k', value: 'a=b, c;d%e é\n', properties: ['p', 'q = v'] },
    ]);
  });
  test('rejects invalid keys and properties', () => {
    assert.throws(() => formatBaggage([{ key: 'a b', value: 'x' }]), RangeError);
    assert.throws(() => formatBaggage([{ key: 'a', value: 'x', properties: ['p,q'] }]), RangeError);
  });
});

// --- Temporal headers

const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const tracerData = (map: unknown): TemporalHeaders => ({ '_tracer-data': json(map) });
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

interface TemporalCase {
  name: string;
  headers: TemporalHeaders | undefined;
  expected: RoutingKeyMatch | undefined;
}

const temporalCases: TemporalCase[] = [
  { name: 'no headers', headers: undefined, expected: undefined },
  { name: 'empty headers', headers: {}, expected: undefined },
  { name: 'dedicated header', headers: { 'sd-routing-key': json(K) }, expected: found(K, 'temporal-header') },
  {
    name: '_tracer-data as the TS OpenTelemetry interceptor writes it',
    headers: tracerData({ traceparent: TRACEPARENT, baggage: 'sd-routing-key=abc' }),
    expected: found('abc', 'tracer-data'),
  },
  {
    name: '_tracer-data with tracestate only',
    headers: tracerData({ traceparent: TRACEPARENT, tracestate: `sd-routing-key=${K}` }),
    expected: found(K, 'tracer-data'),
  },
  {
    name: '_tracer-data with a list value (Python carrier)',
    headers: tracerData({ baggage: ['x=1', `sd-routing-key=${K}`] }),
    expected: found(K, 'tracer-data'),
  },
  { name: '_tracer-data empty map (no propagator registered)', headers: tracerData({}), expected: undefined },
  {
    name: 'dedicated header beats _tracer-data',
    headers: { ...tracerData({ baggage: `sd-routing-key=${K2}` }), 'sd-routing-key': json(K) },
    expected: found(K, 'temporal-header'),
  },
  {
    name: 'invalid dedicated header falls back to _tracer-data',
    headers: { 'sd-routing-key': json('not a key'), ...tracerData({ baggage: `sd-routing-key=${K2}` }) },
    expected: found(K2, 'tracer-data'),
  },
  {
    name: 'dedicated header payload without metadata',
    headers: { 'sd-routing-key': { data: bytes(`"${K}"`) } },
    expected: undefined,
  },
  {
    name: 'dedicated header with metadata but no encoding',
    headers: { 'sd-routing-key': { metadata: {}, data: bytes(`"${K}"`) } },
    expected: undefined,
  },
  {
    name: 'dedicated header with unknown encoding',
    headers: { 'sd-routing-key': { metadata: { encoding: bytes('binary/snappy') }, data: bytes(`"${K}"`) } },
    expected: undefined,
  },
  {
    name: 'dedicated header with garbage bytes',
    headers: {
      'sd-routing-key': {
        metadata: { encoding: bytes('json/plain') },
        data: Uint8Array.from([0xff, 0x00, 0x7b]),
      },
    },
    expected: undefined,
  },
  {
    name: 'dedicated header as binary/plain (decodes to bytes, not a string)',
    headers: { 'sd-routing-key': json(bytes(K)) },
    expected: undefined,
  },
  { name: 'dedicated header holding a number', headers: { 'sd-routing-key': json(42) }, expected: undefined },
  {
    name: 'dedicated header oversized (valid JSON padded past 1 KiB) is not read',
    headers: {
      'sd-routing-key': {
        metadata: { encoding: bytes('json/plain') },
        data: bytes(`${' '.repeat(2000)}"${K}"`),
      },
    },
    expected: undefined,
  },
  {
    name: 'dedicated header padded JSON under 1 KiB is read',
    headers: {
      'sd-routing-key': {
        metadata: { encoding: bytes('json/plain') },
        data: bytes(`${' '.repeat(100)}"${K}"`),
      },
    },
    expected: found(K, 'temporal-header'),
  },
  {
    name: 'dedicated header is null',
    headers: { 'sd-routing-key': null as unknown as Payload },
    expected: undefined,
  },
  {
    name: '_tracer-data holding an array',
    headers: tracerData([`baggage=sd-routing-key=${K}`]),
    expected: undefined,
  },
  { name: '_tracer-data holding a string', headers: tracerData(`sd-routing-key=${K}`), expected: undefined },
  { name: '_tracer-data holding null', headers: tracerData(null), expected: undefined },
  {
    name: '_tracer-data garbage bytes',
    headers: { '_tracer-data': { metadata: { encoding: bytes('json/plain') }, data: bytes('{"baggage":') } },
    expected: undefined,
  },
  {
    name: '_tracer-data with a hostile key',
    headers: tracerData({ baggage: 'sd-routing-key=abc%0Aevil' }),
    expected: undefined,
  },

  {
    name: '_tracer-data as Python writes a key that had a property (K%3Bprop%3D1)',
    headers: tracerData({ traceparent: TRACEPARENT, baggage: `sd-routing-key=${K}%3Bprop%3D1` }),
    expected: found(K, 'tracer-data'),
  },
  {
    name: 'dedicated header holding K;prop=1',
    headers: { 'sd-routing-key': json(`${K};prop=1`) },
    expected: found(K, 'temporal-header'),
  },
];

describe('routingKeyFromTemporalHeaders', () => {
  for (const { name, headers, expected } of temporalCases) {
    test(name, () => assert.deepEqual(routingKeyFromTemporalHeaders(headers), expected));
  }
});

describe('lookUpRoutingKey / lookUpTemporalRoutingKey: refusals', () => {
  const refusedFrom = (headers: HeaderMap) => lookUpRoutingKey(headers).refused;

  test('no carrier at all: neither a match nor a refusal', () => {
    assert.deepEqual(lookUpRoutingKey({ baggage: 'userId=alice' }), {});
    assert.deepEqual(lookUpTemporalRoutingKey({}), {});
  });
  test('a valid key anywhere wins over an earlier refusal, and no refusal is reported', () => {
    assert.deepEqual(
      lookUpRoutingKey({ baggage: 'sd-routing-key=a%20b', tracestate: `sd-routing-key=${K}` }),
      {
        match: found(K, 'tracestate'),
      },
    );
  });
  test('an invalid value is refused with the carrier and a bounded, JSON-quoted reason', () => {
    const refused = refusedFrom({ baggage: `sd-routing-key=${'%0A'.repeat(50)}${'x'.repeat(200)}` });
    assert.equal(refused?.carrier, 'baggage');
    assert.match(refused?.reason ?? '', /^"\\n\\n.*…" \(length 250\) is not a routing key \(1-64 characters/);
    assert.ok((refused?.reason.length ?? 0) < 300);
  });
  test('an empty value and a malformed member are refused too', () => {
    assert.deepEqual(refusedFrom({ baggage: 'sd-routing-key=' }), {
      carrier: 'baggage',
      reason: 'empty value',
    });
    assert.equal(
      refusedFrom({ baggage: 'sd-routing-key=a b' })?.reason,
      'malformed sd-routing-key baggage member (not W3C baggage syntax)',
    );
    assert.equal(refusedFrom({ 'ot-baggage-sd-routing-key': '../x' })?.carrier, 'ot-baggage');
    assert.equal(refusedFrom({ tracestate: 'sd-routing-key' })?.carrier, undefined);
  });
  test('Temporal headers: an unreadable or invalid sd-routing-key header, or a bad _tracer-data key', () => {
    assert.deepEqual(
      lookUpTemporalRoutingKey({ 'sd-routing-key': json(42) }).refused?.carrier,
      'temporal-header',
    );
    assert.match(
      lookUpTemporalRoutingKey({ 'sd-routing-key': json('not a key') }).refused?.reason ?? '',
      /"not a key" \(length 9\) is not a routing key/,
    );
    const fromTracer = lookUpTemporalRoutingKey(tracerData({ baggage: 'sd-routing-key=abc%0Aevil' })).refused;
    assert.equal(fromTracer?.carrier, 'tracer-data');
    assert.match(fromTracer?.reason ?? '', /^_tracer-data baggage: "abc\\nevil" \(length 8\)/);
    assert.equal(lookUpTemporalRoutingKey(tracerData({ traceparent: TRACEPARENT })).refused, undefined);
  });
});

describe('withRoutingKeyHeader', () => {
  test('sets a JSON payload, keeps other headers, does not mutate the input', () => {
    const original: TemporalHeaders = tracerData({ traceparent: TRACEPARENT });
    const headers = withRoutingKeyHeader(original, K);
    assert.deepEqual(Object.keys(headers).sort(), ['_tracer-data', 'sd-routing-key']);
    assert.equal(original['sd-routing-key'], undefined);
    assert.equal(defaultPayloadConverter.fromPayload(headers['sd-routing-key']!), K);
    assert.deepEqual(routingKeyFromTemporalHeaders(headers), found(K, 'temporal-header'));
    assert.deepEqual(
      routingKeyFromTemporalHeaders(withRoutingKeyHeader(headers, K2)),
      found(K2, 'temporal-header'),
    );
  });
  test('throws a non-retriable InvalidRoutingKeyError for invalid keys', () => {
    for (const bad of ['', 'a b', 'a\nb', 'x'.repeat(65), '../x']) {
      assert.throws(
        () => withRoutingKeyHeader({}, bad),
        (err: unknown) => err instanceof InvalidRoutingKeyError && err.retriable === false,
      );
    }
  });
});

// --- OpenTelemetry context

describe('context helpers', () => {
  test('no baggage → undefined', () => {
    assert.equal(routingKeyFromContext(ROOT_CONTEXT), undefined);
    assert.equal(routingKeyFromContext(context.active()), undefined);
  });
  test('contextWithRoutingKey round-trips and keeps other entries', () => {
    const base = propagation.setBaggage(
      ROOT_CONTEXT,
      propagation.createBaggage({ userId: { value: 'alice' } }),
    );
    const ctx = contextWithRoutingKey(base, K);
    assert.equal(routingKeyFromContext(ctx), K);
    assert.equal(propagation.getBaggage(ctx)?.getEntry('userId')?.value, 'alice');
    assert.equal(routingKeyFromContext(base), undefined, 'the original context is unchanged');
    assert.equal(routingKeyFromContext(contextWithRoutingKey(ctx, K2)), K2, 'a new key replaces the old one');
  });
  test('works on a context without baggage', () => {
    assert.equal(routingKeyFromContext(contextWithRoutingKey(ROOT_CONTEXT, K)), K);
  });
  test('legacy sd-sandbox entry is a fallback', () => {
    const ctx = propagation.setBaggage(
      ROOT_CONTEXT,
      propagation.createBaggage({ 'sd-sandbox': { value: K3 } }),
    );
    assert.equal(routingKeyFromContext(ctx), K3);
  });
  test('an entry value with a ;property part gives the key before it', () => {
    const ctx = propagation.setBaggage(
      ROOT_CONTEXT,
      propagation.createBaggage({ 'sd-routing-key': { value: `${K};prop=1` } }),
    );
    assert.equal(routingKeyFromContext(ctx), K);
  });
  test('invalid entry values are ignored', () => {
    const ctx = propagation.setBaggage(
      ROOT_CONTEXT,
      propagation.createBaggage({ 'sd-routing-key': { value: 'a\r\nb' }, 'sd-sandbox': { value: '../x' } }),
    );
    assert.equal(routingKeyFromContext(ctx), undefined);
  });
  test('contextWithRoutingKey rejects invalid keys', () => {
    assert.throws(() => contextWithRoutingKey(ROOT_CONTEXT, 'a;b'), InvalidRoutingKeyError);
  });
});

describe('the key in _tracer-data (what other SDKs read)', () => {
  const tracerData = (headers: Record<string, Payload> | undefined) =>
    headers?.['_tracer-data'] ? defaultPayloadConverter.fromPayload(headers['_tracer-data']) : undefined;

  it('adds the key as baggage, keeping the trace context and other members, replacing an older key', () => {
    const withTrace = {
      '_tracer-data': defaultPayloadConverter.toPayload({
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        baggage: 'user=alice,sd-routing-key=old',
      }),
    };
    assert.deepEqual(tracerData(withTracerDataKey(withTrace, 'k1')), {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      baggage: 'user=alice,sd-routing-key=k1',
    });
    assert.deepEqual(tracerData(withTracerDataKey({}, 'k1')), { baggage: 'sd-routing-key=k1' });
    assert.equal(routingKeyFromTemporalHeaders(withTracerDataKey({}, 'k1'))?.key, 'k1');
  });

  it('takes a refused key out, and leaves headers without one alone', () => {
    const refused = {
      '_tracer-data': defaultPayloadConverter.toPayload({ baggage: 'sd-routing-key=a%20b,user=bob' }),
    };
    assert.deepEqual(tracerData(withoutTracerDataKey(refused)), { baggage: 'user=bob' });
    const only = { '_tracer-data': defaultPayloadConverter.toPayload({ baggage: 'sd-sandbox=x y' }) };
    assert.deepEqual(tracerData(withoutTracerDataKey(only)), {});
    const clean = { other: defaultPayloadConverter.toPayload('x') };
    assert.equal(withoutTracerDataKey(clean), clean);
  });
});
