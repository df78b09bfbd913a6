import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BaggageMemberInit,
  extractRoutingKey,
  formatBaggage,
  type HeaderMap,
  isValidRoutingKey,
  MAX_BAGGAGE_MEMBERS,
  parseBaggage,
  type RoutingKeyMatch,
} from '@sandbox-routing/core';
import type { Payload } from '@temporalio/common';
import fc from 'fast-check';
import { routingKeyFromTemporalHeaders, withRoutingKeyHeader } from '../key-headers';

/** Any valid routing key. */
const routingKey = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
/** RFC 7230 tokens (baggage keys), sometimes the routing-key member names themselves. */
const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);
const memberKey = fc.oneof({ weight: 4, arbitrary: token }, fc.constantFrom('sd-routing-key', 'sd-sandbox'));
/** Properties: `key` or `key=baggage-octets`. */
const property = fc.oneof(
  token,
  fc
    .tuple(token, fc.stringMatching(/^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]{0,10}$/))
    .map(([k, v]) => `${k}=${v}`),
);
/** Values: any well-formed Unicode (code points, no lone surrogates), up to 20 of them, or a key with a `;property` inside. */
const value = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  routingKey,
  fc.tuple(routingKey, fc.string({ maxLength: 10 })).map(([k, rest]) => `${k};${rest}`),
);
const member: fc.Arbitrary<BaggageMemberInit> = fc.record({
  key: memberKey,
  value,
  properties: fc.array(property, { maxLength: 2 }),
});
// At most 21 members of at most ~300 bytes each: always within 180 members and 8192 bytes.
const otherMembers = fc.array(member, { maxLength: 20 });

/** The key a value names: the part before a `;`, spaces and tabs trimmed, when valid. */
function keyOf(value: string | undefined): string | undefined {
  const head = value?.split(';')[0]?.replace(/^[ \t]+|[ \t]+$/g, '');
  return head !== undefined && isValidRoutingKey(head) ? head : undefined;
}

/** Reference model of extractRoutingKey over baggage only: last occurrence per member name. */
function model(members: readonly BaggageMemberInit[]): RoutingKeyMatch | undefined {
  const canonical = keyOf(members.findLast((m) => m.key === 'sd-routing-key')?.value);
  if (canonical !== undefined) return { key: canonical, carrier: 'baggage' };
  const legacy = keyOf(members.findLast((m) => m.key === 'sd-sandbox')?.value);
  if (legacy !== undefined) return { key: legacy, carrier: 'baggage:sd-sandbox' };
  return undefined;
}

function insert<T>(list: readonly T[], item: T, position: number): T[] {
  const at = position % (list.length + 1);
  return [...list.slice(0, at), item, ...list.slice(at)];
}

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
/** Strings biased towards baggage syntax and hostile characters. */
const nastyString = fc.oneof(
  fc.string({ unit: codeUnit, maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .array(
      fc.constantFrom(
        'sd-routing-key',
        'sd-sandbox',
        '=',
        ',',
        ';',
        '%',
        '%2',
        '%41',
        '%ZZ',
        '%C3',
        '%0A',
        ' ',
        '\t',
        '\r\n',
        '\0',
        'abc',
        'é',
        '\uD800',
        '"',
        '\\',
        '../',
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join('')),
);
const headerName = fc.oneof(
  fc.constantFrom(
    'baggage',
    'Baggage',
    'BAGGAGE',
    'tracestate',
    'TraceState',
    'ot-baggage-sd-routing-key',
    'uberctx-sd-routing-key',
  ),
  fc.string({ maxLength: 20 }),
);
const headerValue = fc.oneof(
  nastyString,
  fc.uint8Array({ maxLength: 200 }),
  nastyString.map((s) => new TextEncoder().encode(s)),
  fc.array(fc.oneof(nastyString, fc.uint8Array({ maxLength: 50 })), { maxLength: 4 }),
  fc.constant(null),
  fc.constant(undefined),
);
const headerMap: fc.Arbitrary<HeaderMap> = fc.dictionary(headerName, headerValue, { maxKeys: 6 });

const carriers = new Set(['baggage', 'baggage:sd-sandbox', 'ot-baggage', 'uberctx', 'tracestate']);

describe('codec properties', () => {
  test('a key inserted anywhere in formatted baggage is found (last occurrence wins)', () => {
    fc.assert(
      fc.property(routingKey, otherMembers, fc.nat(), (key, others, position) => {
        const members = insert(others, { key: 'sd-routing-key', value: key }, position);
        const got = extractRoutingKey({ baggage: formatBaggage(members) });
        assert.deepEqual(got, model(members));
        if (!others.some((m) => m.key === 'sd-routing-key'))
          assert.deepEqual(got, { key, carrier: 'baggage' });
      }),
      { numRuns: 500 },
    );
  });

  test('the key is found when the formatted baggage is split over repeated Buffer headers', () => {
    fc.assert(
      fc.property(routingKey, otherMembers, fc.nat(), fc.nat(), (key, others, position, split) => {
        const members = insert(others, { key: 'sd-routing-key', value: key }, position);
        const cut = split % (members.length + 1);
        const headers = [members.slice(0, cut), members.slice(cut)].map((part) =>
          Buffer.from(formatBaggage(part)),
        );
        assert.deepEqual(extractRoutingKey({ baggage: headers }), model(members));
      }),
    );
  });

  test('parseBaggage(formatBaggage(m)) round-trips keys, values and properties', () => {
    fc.assert(
      fc.property(otherMembers, (members) => {
        const parsed = parseBaggage(formatBaggage(members));
        assert.deepEqual(
          parsed,
          members.map((m) => ({ key: m.key, value: m.value, properties: [...(m.properties ?? [])] })),
        );
      }),
      { numRuns: 500 },
    );
  });

  test('withRoutingKeyHeader → routingKeyFromTemporalHeaders returns the key', () => {
    fc.assert(
      fc.property(routingKey, (key) => {
        assert.deepEqual(routingKeyFromTemporalHeaders(withRoutingKeyHeader({}, key)), {
          key,
          carrier: 'temporal-header',
        });
      }),
    );
  });

  test('extractRoutingKey never throws and never returns an invalid key', () => {
    fc.assert(
      fc.property(headerMap, (headers) => {
        const got = extractRoutingKey(headers);
        if (got !== undefined) {
          assert.ok(isValidRoutingKey(got.key), JSON.stringify(got));
          assert.ok(carriers.has(got.carrier));
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('parseBaggage never throws and respects the limits on arbitrary input', () => {
    fc.assert(
      fc.property(fc.array(nastyString, { maxLength: 4 }), (values) => {
        const parsed = parseBaggage(values);
        assert.ok(parsed.length <= MAX_BAGGAGE_MEMBERS);
        for (const m of parsed) assert.match(m.key, /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/);
      }),
      { numRuns: 1000 },
    );
  });

  test('routingKeyFromTemporalHeaders never throws on garbage payloads', () => {
    const payload: fc.Arbitrary<Payload> = fc.record(
      {
        metadata: fc.dictionary(
          fc.constantFrom('encoding', 'x'),
          fc.oneof(
            fc
              .constantFrom('json/plain', 'binary/plain', 'binary/null', 'x')
              .map((e) => new TextEncoder().encode(e)),
            fc.uint8Array({ maxLength: 10 }),
          ),
        ),
        data: fc.oneof(
          fc.uint8Array({ maxLength: 100 }),
          nastyString.map((s) => new TextEncoder().encode(s)),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('sd-routing-key', '_tracer-data', 'other'), payload),
        (headers) => {
          const got = routingKeyFromTemporalHeaders(headers);
          if (got !== undefined) assert.ok(isValidRoutingKey(got.key));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
