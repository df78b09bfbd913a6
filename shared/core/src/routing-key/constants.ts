/**
 * Names and limits of the routing-key carriers. One place, so that producers, consumers and
 * interceptors agree byte for byte.
 *
 * @packageDocumentation
 */

/** W3C `baggage` list-member key that carries the routing key (Signadot's canonical form). */
export const ROUTING_KEY_BAGGAGE_MEMBER = 'sd-routing-key';

/** Legacy W3C `baggage` list-member key still sent by the Signadot browser extension. */
export const LEGACY_BAGGAGE_MEMBER = 'sd-sandbox';

/** OpenTracing / Datadog style baggage header (`ot-baggage-<key>`) carrying the routing key. */
export const OT_BAGGAGE_HEADER = 'ot-baggage-sd-routing-key';

/** Jaeger style baggage header (`uberctx-<key>`) carrying the routing key. */
export const UBERCTX_HEADER = 'uberctx-sd-routing-key';

/** Name of the W3C baggage header. */
export const BAGGAGE_HEADER = 'baggage';

/** Name of the W3C trace-context `tracestate` header. */
export const TRACESTATE_HEADER = 'tracestate';

/** `tracestate` list-member key that carries the routing key. */
export const TRACESTATE_MEMBER = 'sd-routing-key';

/**
 * Temporal header with the routing key: a `json/plain` payload of the key string, made with
 * `defaultPayloadConverter`. Routing never depends on tracing being configured.
 */
export const TEMPORAL_ROUTING_KEY_HEADER = 'sd-routing-key';

/**
 * Temporal header written by the OpenTelemetry interceptors of the TypeScript and Python SDKs: a
 * JSON payload of a text map (`traceparent`, `tracestate`, `baggage`, ...).
 */
export const TEMPORAL_TRACER_HEADER = '_tracer-data';

/**
 * Size of the baggage-string this codec reads. The W3C spec requires platforms to propagate at
 * least 8192 bytes; input beyond that is ignored (see `parseBaggage` for the exact rule).
 */
export const MAX_BAGGAGE_BYTES = 8192;

/** Most list-members read from a baggage-string (`list-member 0*179( OWS "," OWS list-member )`). */
export const MAX_BAGGAGE_MEMBERS = 180;
