import type { HeaderMap } from '@sandbox-routing/core';

/** One header of a Kafka record. Records keep their headers as an ordered list; a name may repeat. */
export interface RecordHeader {
  readonly name: string;
  /** The value's bytes; `null` for a header without a value. */
  readonly value: Buffer | null;
}

/** A Kafka record as stored: what a byte-exact copy must reproduce. */
export interface KafkaRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Every header, in record order, repeated names included. */
  readonly headers: readonly RecordHeader[];
  /** Milliseconds since the epoch, as a decimal string (Kafka's timestamps are 64-bit). */
  readonly timestamp: string;
}

/** One partition of one topic. */
export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

/** A record read from a partition, with where it sits. */
export interface ConsumedRecord extends KafkaRecord, PartitionRef {
  /** Offsets are decimal strings: Kafka's offsets are 64-bit. */
  readonly offset: string;
}

/** `topic/partition/offset`: how logs and dead-letter headers name where a record came from. */
export function coordinatesOf(record: PartitionRef & { offset: string }): string {
  return `${record.topic}/${record.partition}/${record.offset}`;
}

/** `topic/partition`: a map key for per-partition state. */
export function partitionKey(ref: PartitionRef): string {
  return `${ref.topic}/${ref.partition}`;
}

/** The record's own fields only (key, value, headers, timestamp): what a copy writes. */
export function copyOf(record: KafkaRecord): KafkaRecord {
  return { key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp };
}

/** A copy of `record` with every header named `name` left out (its other bytes unchanged). */
export function withoutHeader(record: KafkaRecord, name: string): KafkaRecord {
  return { ...copyOf(record), headers: record.headers.filter((header) => header.name !== name) };
}

/** A copy of `record` with header `name` set to `value`: any earlier one left out, the new one last. */
export function withHeader(record: KafkaRecord, name: string, value: string): KafkaRecord {
  const kept = withoutHeader(record, name);
  return { ...kept, headers: [...kept.headers, { name, value: Buffer.from(value, 'utf8') }] };
}

/**
 * Headers as the routing-key codec reads them: name → value, or every value in order when a name repeats.
 * Values stay bytes; the codec decodes them.
 */
export function headerMap(headers: readonly RecordHeader[]): HeaderMap {
  const map: Record<string, Buffer | null | Buffer[]> = {};
  for (const { name, value } of headers) {
    const existing = map[name];
    if (existing === undefined) map[name] = value;
    else if (value !== null) {
      const values = Array.isArray(existing) ? existing : existing === null ? [] : [existing];
      map[name] = [...values, value];
    }
  }
  return map;
}

/** The first value of header `name` (exact name) as UTF-8, if present. */
export function headerText(headers: readonly RecordHeader[], name: string): string | undefined {
  return headers.find((header) => header.name === name)?.value?.toString('utf8');
}

/** Bytes a record's key, value and headers take (the broker adds a few dozen bytes of framing). */
export function recordBytes(record: KafkaRecord): number {
  let bytes = (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const header of record.headers) bytes += Buffer.byteLength(header.name) + (header.value?.length ?? 0);
  return bytes;
}
