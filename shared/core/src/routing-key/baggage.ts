import { MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS } from './constants';
import { forEachListMember, isBaggageOctet, isBaggageOctets, isToken, trimOws } from './list';

/**
 * One W3C baggage list-member (https://www.w3.org/TR/baggage/), as parsed by {@link parseBaggage}.
 */
export interface BaggageMember {
  /** The key, an RFC 7230 token, OWS trimmed, not decoded. */
  key: string;
  /** The value, OWS trimmed and percent-decoded (UTF-8). */
  value: string;
  /** Properties after `;`, each OWS trimmed and kept raw (`k=v` or `k`); opaque to this codec. */
  properties: string[];
}

/** Input of {@link formatBaggage}: a member whose `properties` may be omitted. */
export interface BaggageMemberInit {
  key: string;
  value: string;
  properties?: readonly string[];
}

/** Percent-decodes a value made of baggage-octets; `undefined` when the encoding is invalid. */
function percentDecode(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  try {
    // Strict: `%` must be followed by two hex digits and the bytes must be well-formed UTF-8.
    // `+` stays `+` (the spec says URL-encoded, not form-encoded).
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** `property = key OWS "=" OWS value / key OWS` (the text is already OWS trimmed). */
function isProperty(text: string): boolean {
  const eq = text.indexOf('=');
  if (eq === -1) return isToken(text);
  return isToken(trimOws(text.slice(0, eq))) && isBaggageOctets(trimOws(text.slice(eq + 1)));
}

/** Parses one raw list-member; `undefined` when it is empty or malformed. */
function parseMember(raw: string): BaggageMember | undefined {
  const semicolon = raw.indexOf(';');
  const head = semicolon === -1 ? raw : raw.slice(0, semicolon);
  const eq = head.indexOf('='); // the first '=' separates; the value may contain more of them
  if (eq === -1) return undefined;
  const key = trimOws(head.slice(0, eq));
  const rawValue = trimOws(head.slice(eq + 1));
  if (!isToken(key) || !isBaggageOctets(rawValue)) return undefined;
  const value = percentDecode(rawValue);
  if (value === undefined) return undefined;
  const properties: string[] = [];
  if (semicolon !== -1) {
    for (const part of raw.slice(semicolon + 1).split(';')) {
      const property = trimOws(part);
      if (property === '') continue; // tolerate `k=v;` and `k=v;;p`
      if (!isProperty(property)) return undefined;
      properties.push(property);
    }
  }
  return { key, value, properties };
}

/**
 * Parses W3C `baggage` header values into list-members, in order. Never throws.
 *
 * - Repeated headers: pass every value; they are read as one list, joined with `,`, in order.
 * - Each member is `key OWS "=" OWS value *( OWS ";" OWS property )`; OWS (spaces, tabs) around
 *   members, keys, `=`, values and `;` is trimmed. The first `=` separates key and value.
 * - The key must be an RFC 7230 token; the value must consist of baggage-octets and is then
 *   percent-decoded as UTF-8. Properties are validated and returned raw, not part of the value.
 * - A malformed member (no `=`, bad key, bad value character, invalid percent-encoding, malformed
 *   property) and an empty member (`a=1,,b=2`) are skipped; the others are still returned.
 * - Limits: only the first {@link MAX_BAGGAGE_BYTES} (8192) UTF-8 bytes of the joined list are read;
 *   a member that does not end within them is dropped, and so is everything after it. At most
 *   {@link MAX_BAGGAGE_MEMBERS} (180) well-formed members are returned; the rest is ignored.
 * - Duplicate keys are all returned, in order. Lookups in this module ({@link getBaggageValue},
 *   `extractRoutingKey`) use the **last** occurrence, as OpenTelemetry JS (`W3CBaggagePropagator`)
 *   and Go (`baggage.Parse`) do, so a test harness that appends `,sd-routing-key=…` to existing
 *   baggage overrides it.
 *
 * Agreement with OpenTelemetry JS's `W3CBaggagePropagator`: on well-formed baggage within the
 * limits (token keys without `%`, non-empty values of baggage-octets, valid percent-encoding) both
 * give every key the same value (`codec-differential.test.ts` checks it on generated input). On
 * malformed input they differ by design: this codec skips a malformed member whole, while OTel JS
 * keeps what `decodeURIComponent` accepts (values with spaces or quotes, percent-encoded keys),
 * trims all Unicode whitespace, drops empty values and members over 4096 characters, and loses a
 * member named `__proto__` (it collects members in a plain object). So for a hostile
 * header the key this codec routes by may differ from what an OTel context carries: route by this
 * codec's answer and run the work inside `runWithRoutingKey`, whose key takes precedence.
 */
export function parseBaggage(headerValues: string | readonly string[]): BaggageMember[] {
  const values = typeof headerValues === 'string' ? [headerValues] : headerValues;
  const members: BaggageMember[] = [];
  forEachListMember(values, MAX_BAGGAGE_BYTES, (raw) => {
    const member = parseMember(raw);
    if (member !== undefined) members.push(member);
    return members.length < MAX_BAGGAGE_MEMBERS;
  });
  return members;
}

/** The value of the last member named `key` (last occurrence wins, as in OpenTelemetry), or `undefined`. */
export function getBaggageValue(members: readonly BaggageMember[], key: string): string | undefined {
  for (let i = members.length - 1; i >= 0; i--) if (members[i]?.key === key) return members[i]?.value;
  return undefined;
}

const HEX = '0123456789ABCDEF';
let encoder: InstanceType<typeof TextEncoder> | undefined;

/**
 * Percent-encodes `value` for a baggage value: every UTF-8 byte that is not a baggage-octet, plus
 * `%` and `=`, becomes `%XX`. The result contains no OWS, `,`, `;` or `=`, so any parser splits it
 * correctly. Lone surrogates (not valid Unicode) are encoded as U+FFFD.
 */
function percentEncode(value: string): string {
  encoder ??= new TextEncoder();
  let out = '';
  for (const byte of encoder.encode(value)) {
    if (isBaggageOctet(byte) && byte !== 0x25 && byte !== 0x3d) out += String.fromCharCode(byte);
    else out += `%${HEX[byte >> 4]}${HEX[byte & 0xf]}`;
  }
  return out;
}

/**
 * Serialises members into a W3C `baggage` header value: `key=value;prop,...`, values
 * percent-encoded, so that `parseBaggage(formatBaggage(m))` returns the same keys and values for
 * any well-formed Unicode value. It does not apply the size or member limits: keep baggage small.
 *
 * @throws RangeError when a key is not an RFC 7230 token or a property is malformed (a broken
 *   header would silently lose members downstream).
 */
export function formatBaggage(members: readonly BaggageMemberInit[]): string {
  return members
    .map(({ key, value, properties }) => {
      if (!isToken(key))
        throw new RangeError(`Invalid baggage key ${JSON.stringify(key)}: not an RFC 7230 token`);
      let member = `${key}=${percentEncode(value)}`;
      for (const property of properties ?? []) {
        const trimmed = trimOws(property);
        if (!isProperty(trimmed))
          throw new RangeError(`Invalid baggage property ${JSON.stringify(property)}`);
        member += `;${trimmed}`;
      }
      return member;
    })
    .join(',');
}
