/**
 * The routing-key codec: finds the Signadot routing key in message, request and Temporal headers
 * and in the OpenTelemetry context, and writes it back. Safe to use in Temporal's workflow sandbox
 * (no `node:` imports, no `Buffer`).
 *
 * @packageDocumentation
 */
export {
  type BaggageMember,
  type BaggageMemberInit,
  formatBaggage,
  getBaggageValue,
  parseBaggage,
} from './baggage';
export {
  extractRoutingKey,
  type HeaderMap,
  type HeaderValue,
  headerValues,
  lookUpRoutingKey,
  mentionsRoutingKey,
  type RefusedRoutingKey,
  type RoutingKeyCarrier,
  type RoutingKeyLookup,
  type RoutingKeyMatch,
} from './carriers';
export {
  LEGACY_BAGGAGE_MEMBER,
  MAX_BAGGAGE_BYTES,
  MAX_BAGGAGE_MEMBERS,
  OT_BAGGAGE_HEADER,
  ROUTING_KEY_BAGGAGE_MEMBER,
  TEMPORAL_ROUTING_KEY_HEADER,
  TEMPORAL_TRACER_HEADER,
  UBERCTX_HEADER,
} from './constants';
export { contextWithRoutingKey, routingKeyFromContext } from './context';
export {
  assertValidRoutingKey,
  InvalidRoutingKeyError,
  isValidRoutingKey,
  MAX_ROUTING_KEY_LENGTH,
  refusalReason,
  routingKeyFromValue,
} from './key';
