import { AsyncLocalStorage } from 'node:async_hooks';
import { context as otelContext } from '@opentelemetry/api';
import { assertValidRoutingKey, contextWithRoutingKey, routingKeyFromContext } from '../routing-key';

/**
 * The routing key of the current async call chain (Node side). Kept in our own AsyncLocalStorage as
 * well as in OpenTelemetry baggage, so routing works whether or not an OpenTelemetry SDK (and its
 * context manager) is installed.
 */
const storage = new AsyncLocalStorage<string>();

/**
 * Runs `fn` with `key` as the routing key: Temporal calls made inside it carry the key, and the
 * active OpenTelemetry context holds it as baggage `sd-routing-key` (for outgoing HTTP calls).
 * @throws InvalidRoutingKeyError when `key` is not a valid routing key
 */
export function runWithRoutingKey<T>(key: string, fn: () => T): T {
  assertValidRoutingKey(key);
  return storage.run(key, () => otelContext.with(contextWithRoutingKey(otelContext.active(), key), fn));
}

/** The routing key of the current call chain: set by `runWithRoutingKey`, else from OTel baggage. */
export function currentRoutingKey(): string | undefined {
  return storage.getStore() ?? routingKeyFromContext(otelContext.active());
}
