import { AsyncLocalStorage } from 'node:async_hooks';
import { context as otelContext } from '@opentelemetry/api';
import type { CarriedDecision } from './routes/carried-decision';
import { assertValidRoutingKey, contextWithRoutingKey, routingKeyFromContext } from './routing-key';

/** What the current call chain works for: the routing key and, when decided, whose work it is. */
interface RoutingScope {
  key: string;
  /** `baseline` or the sandbox name (`ownerLabel`). */
  owner: string | undefined;
  /** Owners decided earlier and carried with the work: door routing places by them, not by its table. */
  decided?: CarriedDecision;
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
 * `owner`, when known, is what log lines written inside say the work belongs to. Without a key
 * (`undefined` or `''`: the baseline's work) it just runs `fn`, so a caller can pass on whatever key it
 * was given.
 * @throws InvalidRoutingKeyError when `key` is not a valid routing key
 */
export function runWithRoutingKey<T>(key: string | undefined, fn: () => T, owner?: string): T {
  if (!key) return fn();
  assertValidRoutingKey(key);
  return storage.run({ key, owner }, () =>
    otelContext.with(contextWithRoutingKey(otelContext.active(), key), fn),
  );
}

/**
 * Runs `fn` like {@link runWithRoutingKey} with the decision's key, and makes the decision's owners
 * binding: a client's door routing starts a workflow on the owner the decision names for the worker's
 * workload instead of asking its route table again (decide once).
 */
export function runWithCarriedDecision<T>(decision: CarriedDecision, fn: () => T, owner?: string): T {
  assertValidRoutingKey(decision.routingKey);
  return storage.run({ key: decision.routingKey, owner, decided: decision }, () =>
    otelContext.with(contextWithRoutingKey(otelContext.active(), decision.routingKey), fn),
  );
}

/** The decision given to the enclosing `runWithCarriedDecision`, if any. */
export function currentCarriedDecision(): CarriedDecision | undefined {
  return storage.getStore()?.decided;
}

/** The routing key of the current call chain: set by `runWithRoutingKey`, else from OTel baggage. */
export function currentRoutingKey(): string | undefined {
  return storage.getStore()?.key ?? routingKeyFromContext(otelContext.active());
}

/** The owner given to the enclosing `runWithRoutingKey`, if any. */
export function currentRoutingOwner(): string | undefined {
  return storage.getStore()?.owner;
}
