import Ajv from 'ajv';
import type { TrailRecord } from './record';
import schema from './trail-record.schema.json';

/** The JSON schema of a trail record (version 1), for readers in other languages too. */
export const TRAIL_RECORD_SCHEMA = schema;

/** Largest record a reader accepts; real ones are well under 2 KiB. */
export const MAX_TRAIL_RECORD_BYTES = 16 * 1024;

export type TrailParseResult = { ok: true; record: TrailRecord } | { ok: false; reason: string };

const validate = new Ajv({ strict: true, strictTypes: false, strictRequired: false }).compile<TrailRecord>(
  schema,
);

/**
 * Parses and validates one message value of the results topic. Never throws: a reader skips what
 * it cannot use (and may count it) rather than stop.
 */
export function parseTrailRecord(value: Uint8Array | string | null | undefined): TrailParseResult {
  if (value == null) return { ok: false, reason: 'empty message' };
  const size = typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
  if (size > MAX_TRAIL_RECORD_BYTES) return { ok: false, reason: `${size} bytes is too large` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : Buffer.from(value).toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  if (!validate(parsed)) {
    const first = validate.errors?.[0];
    return { ok: false, reason: `${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}` };
  }
  return { ok: true, record: parsed };
}
