import { isValidRoutingKey, MAX_ROUTING_KEY_LENGTH } from '@sandbox-routing/core';
import { InvalidArgumentError } from 'commander';

/**
 * Parsers for the values of the `publish` options. Each either returns the typed value or throws
 * commander's `InvalidArgumentError` with the reason; commander then prints it together with the
 * option's name, and the CLI exits with code 2 before anything is sent.
 */

/** Most events one run publishes: every event is built (and validated) in memory before the first send. */
export const MAX_COUNT = 100_000;

/** Highest `--rate`, in events per second; beyond it unpaced batches are the better tool. */
export const MAX_RATE = 100_000;

/**
 * Kafka headers the CLI refuses in `--header`: the OpenTelemetry propagators write them from the active
 * context when the message is sent, so a hand-written value would be silently replaced. The routing key
 * goes in with `--routing-key` instead.
 */
export const RESERVED_HEADERS: readonly string[] = ['baggage', 'traceparent'];

/** Extra Kafka headers: a repeated `--header` name keeps every value, in order. */
export type MessageHeaders = Record<string, string | string[]>;

/** An HTTP token (RFC 9110): what proxies, kcat and the console producer all handle as a header name. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,255}$/;

/** Kafka topic names (the same rule as the `KAFKA_TOPIC` setting). */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** `--count`: a whole number from 1 to {@link MAX_COUNT}. */
export function parseCount(text: string): number {
  const count = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_COUNT}.`);
  }
  return count;
}

/** `--rate`: events per second, a positive number up to {@link MAX_RATE} (fractions allowed: 0.5 = one every 2 s). */
export function parseRate(text: string): number {
  const rate = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE) {
    throw new InvalidArgumentError(`expected events per second, a number above 0 and at most ${MAX_RATE}.`);
  }
  return rate;
}

/**
 * `--routing-key`: a valid routing key, or `undefined` for the empty string, which means "no key"
 * (the Kubernetes Job passes `--routing-key "$(ROUTING_KEY)"`, empty for baseline traffic).
 */
export function parseRoutingKey(text: string): string | undefined {
  if (text === '') return undefined;
  if (!isValidRoutingKey(text)) {
    throw new InvalidArgumentError(
      `expected 1-${MAX_ROUTING_KEY_LENGTH} characters of A-Z a-z 0-9 . _ - starting with a letter or digit (or "" for none).`,
    );
  }
  return text;
}

/** `--port`: a TCP port, 1-65535 (0 picks a free one). */
export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  }
  return port;
}

/** `--topic`: a Kafka topic name. */
export function parseTopic(text: string): string {
  if (!TOPIC_NAME.test(text)) {
    throw new InvalidArgumentError('expected 1-249 characters of letters, digits, ".", "_" and "-".');
  }
  return text;
}

/**
 * One `--header name=value` (everything after the first `=` is the value, as with `kcat -H`).
 * Refuses the {@link RESERVED_HEADERS}, in any letter case, since consumers compare header names
 * case-insensitively.
 */
export function parseHeader(text: string): [name: string, value: string] {
  const eq = text.indexOf('=');
  if (eq < 0) throw new InvalidArgumentError('expected name=value.');
  const name = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (!HEADER_NAME.test(name)) {
    throw new InvalidArgumentError(`header name ${JSON.stringify(name)} is not a valid token.`);
  }
  if (RESERVED_HEADERS.includes(name.toLowerCase())) {
    throw new InvalidArgumentError(
      `the ${name.toLowerCase()} header is written by OpenTelemetry from the context when the event is sent and would replace this value; use --routing-key to set sd-routing-key in baggage.`,
    );
  }
  return [name, value];
}

/** Accumulates repeated `--header` options (commander calls it once per occurrence). */
export function collectHeader(text: string, previous: MessageHeaders = {}): MessageHeaders {
  const [name, value] = parseHeader(text);
  const existing = previous[name];
  const values =
    existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  return { ...previous, [name]: values };
}
