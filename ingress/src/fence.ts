import { headerText, type KafkaRecord, type RecordHeader } from './kafka/records';

/**
 * Fence markers: control records the sandbox teardown writes into every partition of the events
 * topic. The baseline ingress reaches a partition's marker only after every event before it in that
 * partition; when it does, it confirms with the routeserver that the sandbox is gone, stops forwarding
 * to it (until a fresh answer says it exists again) and forwards the marker into the sandbox's topic.
 * Once the teardown has seen the marker of every partition there, nothing more will be forwarded
 * there, and what is left can be moved back to the events topic and the topic deleted.
 */
export const CONTROL_HEADER = 'sandbox-routing-control';
export const FENCE = 'fence';
export const FENCE_SANDBOX_HEADER = 'sandbox-routing-fence-sandbox';
export const FENCE_ID_HEADER = 'sandbox-routing-fence-id';
export const FENCE_PARTITION_HEADER = 'sandbox-routing-fence-partition';

export interface FenceMarker {
  sandbox: string;
  fenceId: string;
  /** The events partition the marker was written to. */
  partition: number;
}

/** The fence marker a record carries, if it is one. */
export function fenceOf(record: Pick<KafkaRecord, 'headers'>): FenceMarker | undefined {
  if (headerText(record.headers, CONTROL_HEADER) !== FENCE) return undefined;
  const sandbox = headerText(record.headers, FENCE_SANDBOX_HEADER);
  const fenceId = headerText(record.headers, FENCE_ID_HEADER);
  const partition = Number(headerText(record.headers, FENCE_PARTITION_HEADER));
  if (!sandbox || !fenceId || !Number.isSafeInteger(partition)) return undefined;
  return { sandbox, fenceId, partition };
}

/** True for any control record (a fence, or a malformed one): never an event to start. */
export function isControlRecord(record: Pick<KafkaRecord, 'headers'>): boolean {
  return record.headers.some((header) => header.name === CONTROL_HEADER);
}

/** The marker for one events partition. */
export function fenceRecord(marker: FenceMarker): KafkaRecord & { partition: number } {
  const headers: RecordHeader[] = [
    { name: CONTROL_HEADER, value: Buffer.from(FENCE) },
    { name: FENCE_SANDBOX_HEADER, value: Buffer.from(marker.sandbox) },
    { name: FENCE_ID_HEADER, value: Buffer.from(marker.fenceId) },
    { name: FENCE_PARTITION_HEADER, value: Buffer.from(String(marker.partition)) },
  ];
  return {
    partition: marker.partition,
    key: null,
    value: null,
    headers,
    timestamp: String(Date.now()),
  };
}
