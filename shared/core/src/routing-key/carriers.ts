import { getBaggageValue, parseBaggage } from './baggage';
import {
  BAGGAGE_HEADER,
  LEGACY_BAGGAGE_MEMBER,
  MAX_BAGGAGE_BYTES,
  OT_BAGGAGE_HEADER,
  ROUTING_KEY_BAGGAGE_MEMBER,
  TRACESTATE_HEADER,
  TRACESTATE_MEMBER,
  UBERCTX_HEADER,
} from './constants';
import { refusalReason, routingKeyFromValue } from './key';
import { forEachListMember, trimOws } from './list';

/**
 * One header value as the transports hand it over: kafkajs gives a `Buffer` (a `Uint8Array`) or an
 * array of them for repeated headers; HTTP-style maps give a string or an array of strings.
 */
export type HeaderValue = string | Uint8Array | readonly (string | Uint8Array)[] | null | undefined;

/**
 * Headers of a message or request. Names may be in any case: `Baggage` and `baggage` are the same
 * header; when a map holds both, the values of both are used, in the map's key order.
 */
export type HeaderMap = Readonly<Record<string, HeaderValue>>;

/** Where {@link extractRoutingKey} or `routingKeyFromTemporalHeaders` found the key. */
export type RoutingKeyCarrier =
  | 'baggage'
  | 'baggage:sd-sandbox'
  | 'ot-baggage'
  | 'uberctx'
  | 'tracestate'
  | 'temporal-header'
  | 'tracer-data';

/** A routing key (always valid per `isValidRoutingKey`) and the carrier it came from. */
export interface RoutingKeyMatch {
  key: string;
  carrier: RoutingKeyCarrier;
}

/** A carrier that names a routing key which is not one: what to log and count instead of routing. */
export interface RefusedRoutingKey {
  carrier: RoutingKeyCarrier;
  /** Why, log-safe and bounded (the value JSON-quoted and cut), e.g. `"a b" (length 3) is not a routing key (...)`. */
  reason: string;
}

/**
 * What the carriers say: the key (`match`), or, when none holds a valid one but some carrier tried to
 * name it, the first such refusal (`refused`): bad input to report, not "no key".
 */
export interface RoutingKeyLookup {
  match?: RoutingKeyMatch;
  refused?: RefusedRoutingKey;
}

let decoder: InstanceType<typeof TextDecoder> | undefined;

/** Decodes bytes as UTF-8; invalid sequences become U+FFFD (which no routing key contains). */
function decodeUtf8(bytes: Uint8Array): string {
  decoder ??= new TextDecoder('utf-8');
  return decoder.decode(bytes);
}

function pushValue(out: string[], value: unknown): void {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(decodeUtf8(value));
}

/**
 * All values of header `name` in `headers`, as strings, in order. This is the one place that
 * normalises transports: names compare case-insensitively (every matching entry is used, in map
 * order); `Uint8Array`/`Buffer` values are decoded as UTF-8 with `TextDecoder` (no Node `Buffer`
 * API, so this runs in Temporal's workflow sandbox); arrays (repeated headers) are flattened;
 * `null`, `undefined` and values of any other type are skipped. Never throws.
 */
export function headerValues(headers: HeaderMap | undefined, name: string): string[] {
  const out: string[] = [];
  if (headers === undefined || headers === null || typeof headers !== 'object') return out;
  const wanted = name.toLowerCase();
  for (const headerName of Object.keys(headers)) {
    if (headerName.toLowerCase() !== wanted) continue;
    const value: unknown = headers[headerName];
    if (Array.isArray(value)) for (const item of value) pushValue(out, item);
    else pushValue(out, value);
  }
  return out;
}

/**
 * The candidate of a single-valued header (`ot-baggage-*`, `uberctx-*`): its first non-empty
 * comma-separated element, OWS trimmed (Node's HTTP server joins repeated headers with `, `).
 */
function fromPlainHeader(values: readonly string[]): string | undefined {
  let found: string | undefined;
  forEachListMember(values, MAX_BAGGAGE_BYTES, (raw) => {
    const value = trimOws(raw);
    if (value === '') return true;
    found = value;
    return false;
  });
  return found;
}

/**
 * The value of the first `tracestate` list-member named `sd-routing-key`. `tracestate` members are
 * `key=value` separated by `,` with OWS; values are not percent-encoded. Malformed members are
 * skipped; the same 8192-byte reading window as baggage bounds the work.
 */
function fromTracestate(values: readonly string[]): string | undefined {
  let found: string | undefined;
  forEachListMember(values, MAX_BAGGAGE_BYTES, (raw) => {
    const eq = raw.indexOf('=');
    if (eq === -1 || trimOws(raw.slice(0, eq)) !== TRACESTATE_MEMBER) return true;
    found = trimOws(raw.slice(eq + 1));
    return false; // first occurrence wins
  });
  return found;
}

/** Does a baggage or tracestate string mention the member `sd-routing-key` (or `sd-sandbox`)? */
const BAGGAGE_MENTION = /(^|[,;\s])(sd-routing-key|sd-sandbox)\s*=/;
const TRACESTATE_MENTION = /(^|[,\s])sd-routing-key\s*=/;

/**
 * Looks the routing key up in message or request headers (Kafka headers and HTTP header maps alike).
 * Carriers are tried in this order, and the first one holding a **valid** key wins:
 *
 * 1. W3C `baggage`, member `sd-routing-key` (`'baggage'`);
 * 2. W3C `baggage`, member `sd-sandbox` (legacy, `'baggage:sd-sandbox'`);
 * 3. header `ot-baggage-sd-routing-key` (`'ot-baggage'`);
 * 4. header `uberctx-sd-routing-key` (`'uberctx'`);
 * 5. `tracestate`, member `sd-routing-key` (`'tracestate'`).
 *
 * Within baggage the last occurrence is the candidate, as in OpenTelemetry (see `parseBaggage`); in
 * `tracestate` the first (leftmost is the most recent entry). A candidate's key is the part before a
 * `;` (see `routingKeyFromValue`: some SDKs keep W3C properties inside the value). A candidate that
 * is not a valid routing key is refused and the search goes on with the next carrier; when no carrier
 * holds a valid key, the first refusal is returned as `refused` (also for a malformed `sd-routing-key`
 * baggage or tracestate member, which has no candidate at all). Never throws; never returns an
 * invalid key.
 */
export function lookUpRoutingKey(headers: HeaderMap | undefined): RoutingKeyLookup {
  let refused: RefusedRoutingKey | undefined;
  const consider = (
    carrier: RoutingKeyCarrier,
    candidate: string | undefined,
  ): RoutingKeyMatch | undefined => {
    if (candidate === undefined) return undefined;
    const key = routingKeyFromValue(candidate);
    if (key !== undefined) return { key, carrier };
    refused ??= { carrier, reason: refusalReason(candidate) };
    return undefined;
  };

  const baggage = headerValues(headers, BAGGAGE_HEADER);
  if (baggage.length > 0) {
    const members = parseBaggage(baggage);
    const match =
      consider('baggage', getBaggageValue(members, ROUTING_KEY_BAGGAGE_MEMBER)) ??
      consider('baggage:sd-sandbox', getBaggageValue(members, LEGACY_BAGGAGE_MEMBER));
    if (match) return { match };
  }
  const tracestate = headerValues(headers, TRACESTATE_HEADER);
  const match =
    consider('ot-baggage', fromPlainHeader(headerValues(headers, OT_BAGGAGE_HEADER))) ??
    consider('uberctx', fromPlainHeader(headerValues(headers, UBERCTX_HEADER))) ??
    consider('tracestate', fromTracestate(tracestate));
  if (match) return { match };
  if (refused === undefined && BAGGAGE_MENTION.test(baggage.join(',')))
    refused = {
      carrier: 'baggage',
      reason: 'malformed sd-routing-key baggage member (not W3C baggage syntax)',
    };
  if (refused === undefined && TRACESTATE_MENTION.test(tracestate.join(',')))
    refused = { carrier: 'tracestate', reason: 'malformed sd-routing-key tracestate member' };
  return refused ? { refused } : {};
}

/**
 * Finds the routing key in message or request headers: `lookUpRoutingKey(headers).match` (see there
 * for the carriers and their order). Never throws; never returns an invalid key.
 *
 * @example
 * ```ts
 * extractRoutingKey({ baggage: Buffer.from('sd-routing-key=4835rlwxwbwyl') });
 * // → { key: '4835rlwxwbwyl', carrier: 'baggage' }
 * ```
 */
export function extractRoutingKey(headers: HeaderMap | undefined): RoutingKeyMatch | undefined {
  return lookUpRoutingKey(headers).match;
}

/**
 * Does any carrier try to name a routing key? When `extractRoutingKey` finds none but this is true,
 * the key is unreadable (hostile, oversized, malformed): bad input, not "no key".
 */
export function mentionsRoutingKey(headers: HeaderMap | undefined): boolean {
  return (
    BAGGAGE_MENTION.test(headerValues(headers, BAGGAGE_HEADER).join(',')) ||
    TRACESTATE_MENTION.test(headerValues(headers, TRACESTATE_HEADER).join(',')) ||
    headerValues(headers, OT_BAGGAGE_HEADER).length > 0 ||
    headerValues(headers, UBERCTX_HEADER).length > 0
  );
}
