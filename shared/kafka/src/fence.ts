import { headerText, type KafkaRecord, type RecordHeader } from './records';

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
/**
 * The consumer group a fence (or a record a teardown moved back) is for. Several consumer workloads read
 * one source topic, each in its own group; a teardown is one workload's, so the others' groups pass its
 * markers and moved-back records by (they handled those records already, from the source topic).
 */
export const FENCE_GROUP_HEADER = 'sandbox-routing-fence-group';
export const RETURNED_FOR_HEADER = 'sandbox-routing-returned-for';

export interface FenceMarker {
  sandbox: string;
  fenceId: string;
  /** The events partition the marker was written to. */
  partition: number;
  /** The consumer group whose teardown wrote it; absent in markers of older teardowns (every group's). */
  group?: string;
}

/** The fence marker a record carries, if it is one. */
export function fenceOf(record: Pick<KafkaRecord, 'headers'>): FenceMarker | undefined {
  if (headerText(record.headers, CONTROL_HEADER) !== FENCE) return undefined;
  const sandbox = headerText(record.headers, FENCE_SANDBOX_HEADER);
  const fenceId = headerText(record.headers, FENCE_ID_HEADER);
  const partition = Number(headerText(record.headers, FENCE_PARTITION_HEADER));
  if (!sandbox || !fenceId || !Number.isSafeInteger(partition)) return undefined;
  const group = headerText(record.headers, FENCE_GROUP_HEADER);
  return group ? { sandbox, fenceId, partition, group } : { sandbox, fenceId, partition };
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
    ...(marker.group ? [{ name: FENCE_GROUP_HEADER, value: Buffer.from(marker.group) }] : []),
  ];
  return {
    partition: marker.partition,
    key: null,
    value: null,
    headers,
    timestamp: String(Date.now()),
  };
}

/**
 * True when `record` is a fence or a moved-back record meant for another consumer group than `group`
 * (another workload's teardown): not this consumer's business.
 */
export function isForAnotherGroup(record: Pick<KafkaRecord, 'headers'>, group: string | undefined): boolean {
  if (group === undefined) return false;
  const target =
    headerText(record.headers, FENCE_GROUP_HEADER) ?? headerText(record.headers, RETURNED_FOR_HEADER);
  return target !== undefined && target !== group;
}
