import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { extractRoutingKey, type HeaderMap, type HeaderValue, type RoutingKeyMatch } from './carriers';
import { TEMPORAL_ROUTING_KEY_HEADER, TEMPORAL_TRACER_HEADER } from './constants';
import { assertValidRoutingKey, isValidRoutingKey } from './key';

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

/** Decodes a header payload with the default converter; `undefined` on any problem. */
function decodeHeader(headers: TemporalHeaders | undefined, name: string, maxBytes: number): unknown {
  if (headers === undefined || headers === null || typeof headers !== 'object') return undefined;
  if (!Object.hasOwn(headers, name)) return undefined;
  const payload: unknown = headers[name];
  if (payload === null || typeof payload !== 'object') return undefined;
  const { data } = payload as Payload;
  if (data instanceof Uint8Array && data.length > maxBytes) return undefined;
  try {
    // Throws on missing metadata, unknown encoding, missing data or invalid JSON.
    return defaultPayloadConverter.fromPayload(payload as Payload);
  } catch {
    return undefined;
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
 * Finds the routing key in Temporal headers, in this order:
 *
 * 1. header `sd-routing-key`: a JSON string payload made with `defaultPayloadConverter`
 *    (`'temporal-header'`);
 * 2. header `_tracer-data`: the JSON text map written by Temporal's OpenTelemetry interceptors
 *    (TypeScript and Python SDKs), e.g. `{"traceparent":"00-…","baggage":"sd-routing-key=abc"}`;
 *    its entries are read like message headers with `extractRoutingKey` (`'tracer-data'`).
 *
 * A header that is missing, undecodable (no metadata, wrong encoding, bad JSON, oversized) or does
 * not hold a valid key is ignored and the next one is tried. Never throws.
 */
export function routingKeyFromTemporalHeaders(
  headers: TemporalHeaders | undefined,
): RoutingKeyMatch | undefined {
  const dedicated = decodeHeader(headers, TEMPORAL_ROUTING_KEY_HEADER, MAX_ROUTING_KEY_PAYLOAD_BYTES);
  if (typeof dedicated === 'string' && isValidRoutingKey(dedicated)) {
    return { key: dedicated, carrier: 'temporal-header' };
  }
  const textMap = toHeaderMap(decodeHeader(headers, TEMPORAL_TRACER_HEADER, MAX_TRACER_DATA_PAYLOAD_BYTES));
  const match = extractRoutingKey(textMap);
  return match === undefined ? undefined : { key: match.key, carrier: 'tracer-data' };
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
