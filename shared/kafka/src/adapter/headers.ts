import type { IHeaders } from 'kafkajs';
import type { RecordHeader } from '../records';

/**
 * Headers as kafkajs decodes them (an object; a repeated name becomes an array of its values, in
 * order) → the record's ordered list. kafkajs does not keep the order *between* different names when
 * a name repeats after another one (`a, b, a` arrives as `a: [1, 3], b: 2`), so neither can we.
 */
export function fromKafkajsHeaders(headers: IHeaders | undefined): RecordHeader[] {
  const list: RecordHeader[] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (item === undefined) continue;
      list.push({ name, value: item === null ? null : Buffer.isBuffer(item) ? item : Buffer.from(item) });
    }
  }
  return list;
}

/**
 * The ordered list → kafkajs's object, values as Buffers so no byte is re-encoded. kafkajs cannot
 * write a header without a value (it throws), so such a header is written with an empty value: the
 * one case in which a copy made through kafkajs differs from its original.
 */
export function toKafkajsHeaders(headers: readonly RecordHeader[]): IHeaders {
  const out: Record<string, Buffer | Buffer[]> = {};
  for (const { name, value } of headers) {
    const bytes = value ?? Buffer.alloc(0);
    const existing = out[name];
    out[name] =
      existing === undefined ? bytes : [...(Array.isArray(existing) ? existing : [existing]), bytes];
  }
  return out;
}
