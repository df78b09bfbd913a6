/** One partition's offset, as kafkajs takes it (a decimal string). */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

/**
 * Where a reader of one topic is in each partition, so that it goes on from there after it joins its
 * group again (a broker restart, a rebalance, a restarted consumer). A reader that commits nothing
 * would otherwise start each new assignment at the end of the topic and never see what was written
 * while it was away.
 *
 * - A partition read before resumes at the offset after the last message read.
 * - A partition not read yet starts where the topic ended when the reader started (`startAt`), so
 *   nothing written after the start is missed however long the first join takes; or at its beginning
 *   when the reader reads from the beginning.
 * - A partition added to the topic after the start starts at its beginning: all of it is new.
 */
export class ReadPositions {
  private readonly next = new Map<number, bigint>();
  private readonly start: ReadonlyMap<number, bigint> | 'beginning';

  /** `startAt`: each partition's end offset when the reader started, or `beginning`. */
  constructor(startAt: readonly PartitionOffset[] | 'beginning') {
    this.start =
      startAt === 'beginning' ? 'beginning' : new Map(startAt.map((p) => [p.partition, BigInt(p.offset)]));
  }

  /**
   * Notes that the message at `offset` of `partition` is being read; false when it was read before
   * (a fetch from before a seek delivered it again): skip it then.
   */
  read(partition: number, offset: string): boolean {
    const at = BigInt(offset);
    const next = this.next.get(partition);
    if (next !== undefined && at < next) return false;
    this.next.set(partition, at + 1n);
    return true;
  }

  /** Where each partition of an assignment must be read from. */
  seeks(assigned: readonly number[]): PartitionOffset[] {
    return assigned.map((partition) => {
      const next =
        this.next.get(partition) ?? (this.start === 'beginning' ? 0n : (this.start.get(partition) ?? 0n));
      return { partition, offset: next.toString() };
    });
  }
}
