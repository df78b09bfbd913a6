import { AsyncLocalStorage } from 'node:async_hooks';
import { context as otelContext } from '@opentelemetry/api';
import { assertValidRoutingKey, contextWithRoutingKey, routingKeyFromContext } from '../routing-key';

/** What the current call chain works for: the routing key and, when decided, whose work it is. */
interface RoutingScope {
  key: string;
  /** `baseline` or the sandbox name (`ownerLabel`). */
  owner: string | undefined;
}

/**
 * The routing key of the current async call chain (Node side). Kept in our own AsyncLocalStorage as
 * well as in OpenTelemetry baggage, so routing works whether or not an OpenTelemetry SDK (and its
 * context manager) is installed.
 */
const storage = new AsyncLocalStorage<RoutingScope>();

/**
 * Runs `fn` with `key` as the routing key: Temporal calls made inside it carry the key, and the
 * active OpenTelemetry context holds it as baggage `sd-routing-key` (for outgoing HTTP calls).
 * `owner`, when known, is what log lines written inside say the work belongs to.
 * @throws InvalidRoutingKeyError when `key` is not a valid routing key
 */
export function runWithRoutingKey<T>(key: string, fn: () => T, owner?: string): T {
  assertValidRoutingKey(key);
  return storage.run({ key, owner }, () =>
    otelContext.with(contextWithRoutingKey(otelContext.active(), key), fn),
  );
}

/** The routing key of the current call chain: set by `runWithRoutingKey`, else from OTel baggage. */
export function currentRoutingKey(): string | undefined {
  return storage.getStore()?.key ?? routingKeyFromContext(otelContext.active());
}

/** The owner given to the enclosing `runWithRoutingKey`, if any. */
export function currentRoutingOwner(): string | undefined {
  return storage.getStore()?.owner;
}
