import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

/**
 * Where an event's payload comes from: a fixed JSON object (`--payload`, `--payload-file`), a template
 * expanded per event (`--template`), or the built-in sample order. Every source is turned into a
 * {@link PayloadFactory} while the options are parsed, so bad input stops the CLI before it connects.
 */

/** What a payload may depend on: the event's sequence number in this run (1..count) and its id. */
export interface PayloadVars {
  seq: number;
  id: string;
}

/** Makes the payload of one event. */
export type PayloadFactory = (vars: PayloadVars) => Record<string, unknown>;

/** Template placeholders and what they expand to. */
export const TEMPLATE_PLACEHOLDERS = ['seq', 'id'] as const;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJson(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Parses `text` as a JSON object (the event schema requires an object payload). */
export function parsePayloadJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON: ${(error as Error).message}.`);
  }
  if (!isJsonObject(value)) {
    throw new InvalidArgumentError(`expected a JSON object, got ${describeJson(value)}.`);
  }
  return value;
}

/**
 * The same payload for every event. Each event gets its own deep copy, so nothing that later touches
 * one event's payload can change another's.
 */
export function fixedPayload(payload: Record<string, unknown>): PayloadFactory {
  const text = JSON.stringify(payload);
  return () => JSON.parse(text) as Record<string, unknown>;
}

/** `--payload '<json object>'`. */
export function payloadFromJson(text: string): PayloadFactory {
  return fixedPayload(parsePayloadJson(text));
}

/** `--payload-file <path>`: a file holding one JSON object. */
export function payloadFromFile(file: string): PayloadFactory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError(`cannot read ${file}${code ? ` (${code})` : ''}.`);
  }
  try {
    return fixedPayload(parsePayloadJson(text));
  } catch (error) {
    throw new InvalidArgumentError(`${file}: ${(error as Error).message}`);
  }
}

/**
 * `--template '<json>'`: JSON text with `{{seq}}` and `{{id}}` placeholders, expanded for each event
 * and then parsed. `{{seq}}` becomes the bare number, so it works as a JSON number (`"qty": {{seq}}`)
 * or inside a string (`"ref": "order-{{seq}}"`); `{{id}}` is inserted JSON-escaped, for use inside a
 * string (`"orderId": "{{id}}"`).
 *
 * The template is checked once here (unknown placeholders, and a trial expansion that must give a JSON
 * object) so a typo is reported before anything is sent.
 *
 * @example
 * ```ts
 * payloadFromTemplate('{"orderId":"{{id}}","qty":{{seq}}}')({ seq: 2, id: 'demo-2' });
 * // { orderId: 'demo-2', qty: 2 }
 * ```
 */
export function payloadFromTemplate(template: string): PayloadFactory {
  const unknown = [...template.matchAll(PLACEHOLDER)]
    .map((match) => match[1] ?? '')
    .filter((name) => !(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `unknown placeholder ${unknown.map((name) => `{{${name}}}`).join(', ')}; known: ${TEMPLATE_PLACEHOLDERS.map((name) => `{{${name}}}`).join(', ')}.`,
    );
  }
  const expand = ({ seq, id }: PayloadVars): Record<string, unknown> => {
    const text = template.replace(PLACEHOLDER, (_, name: string) =>
      name === 'seq' ? String(seq) : JSON.stringify(id).slice(1, -1),
    );
    try {
      return parsePayloadJson(text);
    } catch (error) {
      throw new InvalidArgumentError(
        `after expanding placeholders (seq ${seq}): ${(error as Error).message}`,
      );
    }
  };
  expand({ seq: 1, id: 'id-1' });
  return expand;
}

/**
 * The default payload: a small sample order that varies with the sequence number, so consecutive
 * events are told apart in logs and workflow results.
 */
export function sampleOrder({ seq }: PayloadVars): Record<string, unknown> {
  const qty = (seq % 3) + 1;
  return {
    orderId: `order-${seq}`,
    seq,
    items: [{ sku: `SKU-${100 + (seq % 5)}`, qty }],
    amount: Math.round(qty * 1999) / 100,
  };
}
