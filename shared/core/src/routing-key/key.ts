import { trimOws } from './list';

/** Longest routing key accepted, in characters. Signadot keys are 13 characters. */
export const MAX_ROUTING_KEY_LENGTH = 64;

/*
 * Why so strict: the routing key comes from request and message headers, i.e. from anyone who can
 * send a request or produce a message. It ends up in task-queue names, metric labels, log lines and
 * routeserver queries. A hostile header must never become a queue name, a metric-label explosion or
 * a log injection, so only a short run of `[A-Za-z0-9._-]` starting with a letter or digit is a key
 * (no `..`, no leading `-` that a CLI would read as a flag); anything else is "no key".
 * Signadot's own keys are 13 lowercase alphanumerics; RouteGroup and test keys may contain `-`.
 */
const ROUTING_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * True when `value` can be used as a routing key: 1 to {@link MAX_ROUTING_KEY_LENGTH} characters of
 * `A-Z`, `a-z`, `0-9`, `.`, `_` or `-`, the first a letter or digit.
 *
 * @example
 * ```ts
 * isValidRoutingKey('4835rlwxwbwyl'); // true
 * isValidRoutingKey('a\nb');          // false
 * ```
 */
export function isValidRoutingKey(value: string): boolean {
  return typeof value === 'string' && ROUTING_KEY.test(value);
}

/** What every refusal says a key must look like. */
const KEY_RULE = `1-${MAX_ROUTING_KEY_LENGTH} characters of [A-Za-z0-9._-] starting with a letter or digit`;

/** A printable, bounded rendering of an untrusted value for error messages and logs. */
export function describeUntrusted(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return `${JSON.stringify(shown)} (length ${value.length})`;
}

/**
 * Thrown when code tries to attach an invalid routing key (see {@link isValidRoutingKey}). It is a
 * programming or input error: retrying cannot fix it, hence `retriable = false`.
 */
export class InvalidRoutingKeyError extends Error {
  override readonly name = 'InvalidRoutingKeyError';
  /** Always `false`: the same input fails the same way. */
  readonly retriable = false;

  constructor(value: unknown) {
    super(`Invalid routing key ${describeUntrusted(value)}: expected ${KEY_RULE}`);
  }
}

/**
 * Returns `key` when it is a valid routing key, otherwise throws {@link InvalidRoutingKeyError}.
 */
export function assertValidRoutingKey(key: string): string {
  if (!isValidRoutingKey(key)) throw new InvalidRoutingKeyError(key);
  return key;
}

/**
 * The routing key a carrier value names: the value up to the first `;`, spaces and tabs trimmed,
 * when that is a valid key. The `;` part is a W3C baggage property that some OpenTelemetry SDKs keep
 * inside the value: Python's `W3CBaggagePropagator` extracts `sd-routing-key=K;prop=1` as the value
 * `K;prop=1` and injects it again percent-encoded (`K%3Bprop%3D1`), so a decoded value can carry it.
 *
 * @example
 * ```ts
 * routingKeyFromValue('4835rlwxwbwyl;ttl=60'); // '4835rlwxwbwyl'
 * routingKeyFromValue('a b');                  // undefined
 * ```
 */
export function routingKeyFromValue(value: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (isValidRoutingKey(value)) return value; // the common case, no copy
  const semicolon = value.indexOf(';');
  const head = trimOws(semicolon === -1 ? value : value.slice(0, semicolon));
  return isValidRoutingKey(head) ? head : undefined;
}

/**
 * Why `value` names no routing key (for a value {@link routingKeyFromValue} refused): a bounded,
 * log-safe sentence (the value is shown JSON-quoted and cut at 80 characters).
 */
export function refusalReason(value: unknown): string {
  if (typeof value !== 'string') return `not a string (${typeof value})`;
  if (trimOws(value) === '') return 'empty value';
  return `${describeUntrusted(value)} is not a routing key (${KEY_RULE})`;
}
