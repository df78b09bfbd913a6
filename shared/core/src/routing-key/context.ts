import { type Context, propagation } from '@opentelemetry/api';
import { LEGACY_BAGGAGE_MEMBER, ROUTING_KEY_BAGGAGE_MEMBER } from './constants';
import { assertValidRoutingKey, routingKeyFromValue } from './key';

/**
 * The routing key held in the OpenTelemetry baggage of `ctx`: entry `sd-routing-key`, else the
 * legacy entry `sd-sandbox` (as `extractRoutingKey` does for headers), read by `routingKeyFromValue`. `undefined` when
 * there is no baggage, no entry, or the value is not a valid routing key.
 *
 * @example
 * ```ts
 * routingKeyFromContext(context.active());
 * ```
 */
export function routingKeyFromContext(ctx: Context): string | undefined {
  const baggage = propagation.getBaggage(ctx);
  if (baggage === undefined) return undefined;
  for (const name of [ROUTING_KEY_BAGGAGE_MEMBER, LEGACY_BAGGAGE_MEMBER]) {
    const value = baggage.getEntry(name)?.value;
    const key = value === undefined ? undefined : routingKeyFromValue(value);
    if (key !== undefined) return key;
  }
  return undefined;
}

/**
 * Returns a context whose baggage has entry `sd-routing-key` = `key`, keeping the other entries
 * of `ctx`'s baggage. Run code in it with `context.with(...)` so that outgoing calls made through
 * a W3C baggage propagator carry the key (and Signadot routes them).
 *
 * @throws InvalidRoutingKeyError when `key` is not a valid routing key.
 */
export function contextWithRoutingKey(ctx: Context, key: string): Context {
  assertValidRoutingKey(key);
  const baggage = propagation.getBaggage(ctx) ?? propagation.createBaggage();
  return propagation.setBaggage(ctx, baggage.setEntry(ROUTING_KEY_BAGGAGE_MEMBER, { value: key }));
}
