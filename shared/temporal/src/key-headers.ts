import {
  assertValidRoutingKey,
  type HeaderMap,
  type HeaderValue,
  LEGACY_BAGGAGE_MEMBER,
  lookUpRoutingKey,
  ROUTING_KEY_BAGGAGE_MEMBER,
  type RoutingKeyLookup,
  type RoutingKeyMatch,
  refusalReason,
  routingKeyFromValue,
  TEMPORAL_ROUTING_KEY_HEADER,
  TEMPORAL_TRACER_HEADER,
} from '@sandbox-routing/core/workflow';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';

/*
 * Workflow-sandbox safe: imports only `@temporalio/common` and this folder; no `node:` modules, no
 * Buffer, no I/O. The same headers always give the same answer, so replays decide the same way.
 */

/** Temporal headers: header name → Payload (`Headers` in `@temporalio/common`). */
export type TemporalHeaders = Readonly<Record<string, Payload>>;

/**
 * Largest payload `data` read, in bytes. A JSON-quoted key is at most 66 bytes; a tracer-data map
 * holds traceparent, tracestate and at most 8 KiB of baggage. Bigger payloads are ignored unread.
 */
const MAX_ROUTING_KEY_PAYLOAD_BYTES = 1024;
const MAX_TRACER_DATA_PAYLOAD_BYTES = 64 * 1024;

/** Marks a header that is present but cannot be read (see {@link decodeHeader}). */
const UNREADABLE = Symbol('unreadable');

/**
 * Decodes a header payload with the default converter: `undefined` when the header is absent,
 * {@link UNREADABLE} when it is there but not a payload the default converter reads within `maxBytes`.
 */
function decodeHeader(
  headers: TemporalHeaders | undefined,
  name: string,
  maxBytes: number,
): unknown | typeof UNREADABLE {
  if (headers === undefined || headers === null || typeof headers !== 'object') return undefined;
  if (!Object.hasOwn(headers, name)) return undefined;
  const payload: unknown = headers[name];
  if (payload === null || typeof payload !== 'object') return UNREADABLE;
  const { data } = payload as Payload;
  if (data instanceof Uint8Array && data.length > maxBytes) return UNREADABLE;
  try {
    // Throws on missing metadata, unknown encoding, missing data or invalid JSON.
    return defaultPayloadConverter.fromPayload(payload as Payload);
  } catch {
    return UNREADABLE;
  }
}

/** Keeps the entries of a decoded text map that look like header values (strings, string arrays). */
function toHeaderMap(value: unknown): HeaderMap | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const map: Record<string, HeaderValue> = {};
  for (const [name, entry] of Object.entries(value)) {
    if (typeof entry === 'string') map[name] = entry;
    // Python's OpenTelemetry carriers may hold a list of strings per key.
    else if (Array.isArray(entry))
      map[name] = entry.filter((item): item is string => typeof item === 'string');
  }
  return map;
}

/**
 * Looks the routing key up in Temporal headers, in this order:
 *
 * 1. header `sd-routing-key`: a JSON string payload made with `defaultPayloadConverter`
 *    (`'temporal-header'`);
 * 2. header `_tracer-data`: the JSON text map written by Temporal's OpenTelemetry interceptors
 *    (TypeScript, Python and Go SDKs), e.g. `{"traceparent":"00-…","baggage":"sd-routing-key=abc"}`;
 *    its entries are read like message headers with `lookUpRoutingKey` (`'tracer-data'`).
 *
 * The first valid key wins (the part before a `;`, as `routingKeyFromValue` reads it). A header that
 * is missing or undecodable (no metadata, wrong encoding, bad JSON, oversized) is skipped; when
 * neither gives a key but one of them named an invalid key (or `sd-routing-key` is there but
 * unreadable), that refusal is returned as `refused`. Never throws; the same headers always give the
 * same answer, so a workflow replays the same way.
 */
export function lookUpTemporalRoutingKey(headers: TemporalHeaders | undefined): RoutingKeyLookup {
  let refused: RoutingKeyLookup['refused'];
  const dedicated = decodeHeader(headers, TEMPORAL_ROUTING_KEY_HEADER, MAX_ROUTING_KEY_PAYLOAD_BYTES);
  if (typeof dedicated === 'string') {
    const key = routingKeyFromValue(dedicated);
    if (key !== undefined) return { match: { key, carrier: 'temporal-header' } };
    refused = { carrier: 'temporal-header', reason: refusalReason(dedicated) };
  } else if (dedicated !== undefined) {
    refused = {
      carrier: 'temporal-header',
      reason: `header ${TEMPORAL_ROUTING_KEY_HEADER} is not a JSON string payload of at most ${MAX_ROUTING_KEY_PAYLOAD_BYTES} bytes`,
    };
  }
  const tracerData = decodeHeader(headers, TEMPORAL_TRACER_HEADER, MAX_TRACER_DATA_PAYLOAD_BYTES);
  const inner = lookUpRoutingKey(tracerData === UNREADABLE ? undefined : toHeaderMap(tracerData));
  if (inner.match) return { match: { key: inner.match.key, carrier: 'tracer-data' } };
  refused ??= inner.refused && {
    carrier: 'tracer-data',
    reason: `${TEMPORAL_TRACER_HEADER} ${inner.refused.carrier}: ${inner.refused.reason}`,
  };
  return refused ? { refused } : {};
}

/**
 * Finds the routing key in Temporal headers: `lookUpTemporalRoutingKey(headers).match` (see there
 * for the order). Never throws.
 */
export function routingKeyFromTemporalHeaders(
  headers: TemporalHeaders | undefined,
): RoutingKeyMatch | undefined {
  return lookUpTemporalRoutingKey(headers).match;
}

/**
 * Returns a copy of `headers` with header `sd-routing-key` set to `key` (a JSON payload made with
 * `defaultPayloadConverter`); other headers are kept, `headers` itself is not modified.
 *
 * @throws InvalidRoutingKeyError when `key` is not a valid routing key.
 */
export function withRoutingKeyHeader(
  headers: TemporalHeaders | undefined,
  key: string,
): Record<string, Payload> {
  assertValidRoutingKey(key);
  return { ...headers, [TEMPORAL_ROUTING_KEY_HEADER]: defaultPayloadConverter.toPayload(key) };
}

/**
 * Returns a copy of `headers` whose `_tracer-data` (the text map Temporal's OpenTelemetry interceptors
 * write and read, in every SDK) carries baggage member `sd-routing-key=key`: the map's other entries
 * (traceparent, tracestate) and other baggage members are kept, an earlier `sd-routing-key` member is
 * replaced, and a missing or unreadable map is created with the baggage alone. A worker in any
 * language with Temporal's tracing interceptor (the Python tutorial's workers) then sees the key as
 * OpenTelemetry baggage, whether or not this side exports traces.
 *
 * @throws InvalidRoutingKeyError when `key` is not a valid routing key.
 */
export function withTracerDataKey(
  headers: TemporalHeaders | undefined,
  key: string,
): Record<string, Payload> {
  assertValidRoutingKey(key);
  const { map, members } = tracerDataOf(headers);
  // A valid key is made of baggage-octets: written as it is, no percent-encoding needed.
  map.baggage = [...members, `${ROUTING_KEY_BAGGAGE_MEMBER}=${key}`].join(',');
  return { ...headers, [TEMPORAL_TRACER_HEADER]: defaultPayloadConverter.toPayload(map) };
}

/**
 * Returns `headers` without the routing-key members of `_tracer-data`'s baggage (`sd-routing-key`,
 * `sd-sandbox`), well-formed or not: what work of a run whose key was refused carries on, so that
 * nothing downstream reads a key the run itself does not have. Headers without such a member are
 * returned as they are.
 */
export function withoutTracerDataKey(headers: TemporalHeaders | undefined): TemporalHeaders | undefined {
  const { map, members, removed } = tracerDataOf(headers);
  if (!removed) return headers;
  if (members.length > 0) map.baggage = members.join(',');
  else delete map.baggage;
  return { ...headers, [TEMPORAL_TRACER_HEADER]: defaultPayloadConverter.toPayload(map) };
}

/** The name of a raw baggage list-member (before `=`, OWS trimmed). */
function memberName(member: string): string {
  const at = member.indexOf('=');
  return (at === -1 ? member : member.slice(0, at)).trim();
}

/**
 * `_tracer-data` as a map (empty when absent or unreadable), and its baggage's other list-members, raw
 * (byte for byte, malformed ones included: they are the sender's business), without the routing-key ones.
 */
function tracerDataOf(headers: TemporalHeaders | undefined) {
  const decoded = decodeHeader(headers, TEMPORAL_TRACER_HEADER, MAX_TRACER_DATA_PAYLOAD_BYTES);
  const map: Record<string, unknown> =
    decoded !== UNREADABLE && decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded)
      ? { ...(decoded as Record<string, unknown>) }
      : {};
  const existing =
    typeof map.baggage === 'string' ? map.baggage.split(',').filter((m) => m.trim() !== '') : [];
  const members = existing.filter((member) => {
    const name = memberName(member);
    return name !== ROUTING_KEY_BAGGAGE_MEMBER && name !== LEGACY_BAGGAGE_MEMBER;
  });
  return { map, members, removed: members.length < existing.length };
}
