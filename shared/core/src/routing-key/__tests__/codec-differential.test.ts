/**
 * Differential test: this codec against OpenTelemetry JS's `W3CBaggagePropagator`, on the well-formed
 * baggage both are meant to read alike (see the agreement note on `parseBaggage`), plus the known,
 * deliberate differences on malformed input.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultTextMapGetter, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import fc from 'fast-check';
import { formatBaggage, getBaggageValue, parseBaggage } from '..';

const otel = new W3CBaggagePropagator();

/** Every key → value OpenTelemetry extracts from `baggage` header value(s). */
function otelEntries(header: string | string[]): Map<string, string> {
  const baggage = propagation.getBaggage(
    otel.extract(ROOT_CONTEXT, { baggage: header }, defaultTextMapGetter),
  );
  return new Map((baggage?.getAllEntries() ?? []).map(([key, entry]) => [key, entry.value]));
}

/** Every key → value of this codec, last occurrence winning. */
function codecEntries(header: string | string[]): Map<string, string> {
  const members = parseBaggage(header);
  return new Map(members.map((m) => [m.key, getBaggageValue(members, m.key) ?? '']));
}

/**
 * RFC 7230 tokens without `%` (OTel JS percent-decodes keys; this codec keeps them raw) and other
 * than `__proto__` (OTel JS collects members in a plain object, where that name sets the prototype).
 */
const key = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.stringMatching(/^[A-Za-z0-9!#$&'*+.^_`|~-]{1,16}$/).filter((k) => k !== '__proto__'),
  },
  fc.constantFrom('sd-routing-key', 'sd-sandbox'),
);
/** Non-empty values: any well-formed Unicode, or a routing key with a `;property` suffix inside. */
const value = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,12}(;[a-z]{1,4}=[0-9]{1,3})?$/),
);
/** Two ways to percent-encode: this codec's `formatBaggage` and `encodeURIComponent`. */
const encoded = fc
  .tuple(value, fc.boolean())
  .map(([v, viaCodec]) =>
    viaCodec ? formatBaggage([{ key: 'k', value: v }]).slice(2) : encodeURIComponent(v),
  );
const property = fc.oneof(
  fc.stringMatching(/^[a-z]{1,6}$/),
  fc
    .tuple(fc.stringMatching(/^[a-z]{1,6}$/), fc.stringMatching(/^[A-Za-z0-9]{0,6}$/))
    .map(([k, v]) => `${k}=${v}`),
);
const ows = fc.stringMatching(/^[ \t]{0,2}$/);
const member = fc
  .tuple(key, encoded, fc.array(property, { maxLength: 2 }), ows, ows, ows, ows)
  .map(
    ([k, v, props, a, b, c, d]) => `${a}${k}${b}=${c}${v}${props.map((p) => `${d};${d}${p}`).join('')}${d}`,
  );
// At most 30 members of at most ~250 characters: inside both implementations' limits.
const list = fc.array(member, { minLength: 1, maxLength: 30 });

describe('baggage codec vs OpenTelemetry W3CBaggagePropagator', () => {
  test('well-formed baggage: both give every key the same value (last occurrence wins)', () => {
    fc.assert(
      fc.property(list, (members) => {
        const header = members.join(',');
        assert.deepEqual(codecEntries(header), otelEntries(header));
      }),
      { numRuns: 1000 },
    );
  });

  test('well-formed baggage split over repeated headers: still the same values', () => {
    fc.assert(
      fc.property(list, fc.nat(), (members, cut) => {
        const at = cut % (members.length + 1);
        const headers = [members.slice(0, at).join(','), members.slice(at).join(',')].filter((h) => h !== '');
        assert.deepEqual(codecEntries(headers), otelEntries(headers));
      }),
      { numRuns: 500 },
    );
  });

  test('known differences on malformed input (documented on parseBaggage)', () => {
    // A value with a space is not baggage-octets: this codec skips the member, OTel keeps it.
    assert.equal(getBaggageValue(parseBaggage('sd-routing-key=a b'), 'sd-routing-key'), undefined);
    assert.equal(otelEntries('sd-routing-key=a b').get('sd-routing-key'), 'a b');
    // So a malformed later duplicate hides an earlier good one for OTel, not for this codec.
    assert.equal(
      getBaggageValue(parseBaggage('sd-routing-key=good,sd-routing-key=a b'), 'sd-routing-key'),
      'good',
    );
    // An empty value: this codec returns it (no key), OTel drops the member.
    assert.equal(getBaggageValue(parseBaggage('k='), 'k'), '');
    assert.equal(otelEntries('k=').has('k'), false);
    // Percent-encoded keys: OTel decodes them, this codec keeps the token as it is.
    assert.equal(otelEntries('a%41=1').get('aA'), '1');
    assert.equal(getBaggageValue(parseBaggage('a%41=1'), 'a%41'), '1');
    // A member named __proto__ (found by this test's generator): OTel JS loses it, this codec keeps it.
    assert.equal(otelEntries('__proto__=A').size, 0);
    assert.equal(getBaggageValue(parseBaggage('__proto__=A'), '__proto__'), 'A');
  });
});
