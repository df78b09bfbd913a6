import Ajv from 'ajv';
import schema from './event.schema.json';

/** An event as published on the events topic (see event.schema.json). */
export interface PipelineEvent {
  id: string;
  type: string;
  time: string;
  payload: Record<string, unknown>;
}

export const EVENT_SCHEMA = schema;

/** Why an event was rejected; also the `dead-letter-reason` header value. */
export type EventRejection = 'oversized' | 'not-json' | 'schema';

export type EventParseResult =
  | { ok: true; event: PipelineEvent }
  | { ok: false; reason: EventRejection; detail: string };

const validate = new Ajv({ allErrors: true, strict: true }).compile<PipelineEvent>(schema);

/** Checks an event object against the schema; returns a readable list of problems, or undefined. */
export function eventProblems(event: unknown): string | undefined {
  if (validate(event)) return undefined;
  return (validate.errors ?? [])
    .map(
      (e) =>
        `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
    )
    .join('; ');
}

/** Parses and validates a message value: size first (cheap), then JSON, then the schema. */
export function parseEvent(
  value: Uint8Array | string | null | undefined,
  maxBytes: number,
): EventParseResult {
  const size = value == null ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
  if (size > maxBytes) return { ok: false, reason: 'oversized', detail: `${size} bytes > limit ${maxBytes}` };
  const text = value == null ? '' : typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'not-json', detail: (error as Error).message };
  }
  const problems = eventProblems(parsed);
  if (problems) return { ok: false, reason: 'schema', detail: problems };
  return { ok: true, event: parsed as PipelineEvent };
}

/** A new event with a fresh id and the current time. */
export function createEvent(type: string, payload: Record<string, unknown>, id?: string): PipelineEvent {
  return { id: id ?? crypto.randomUUID(), type, time: new Date().toISOString(), payload };
}

/**
 * The `id` of an event in a record's value when it is JSON with a string `id`, also when the event is
 * otherwise invalid (trail records join on it), else null.
 */
export function eventIdIn(value: Buffer | null): string | null {
  try {
    const id: unknown = JSON.parse(value?.toString('utf8') ?? '')?.id;
    return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : null;
  } catch {
    return null;
  }
}
