import { type PartitionRef, partitionKey } from './records';

interface PartitionOffsets {
  ref: PartitionRef;
  /** Offsets delivered and not finished yet (handling, or waiting to be delivered again). */
  pending: Set<bigint>;
  /** One past the highest offset delivered so far. */
  end: bigint | undefined;
  /**
   * The position last handed out by `committable()`; at first, the first offset delivered (the
   * group's position then), so a partition whose first record is not done commits nothing.
   */
  committed: bigint | undefined;
}

/**
 * Which offset each partition may commit: the first offset not finished yet. Records may finish out
 * of order (a window of records in flight per partition), and a record that could not be handled yet
 * stays pending until it is delivered again and finishes, so a commit never passes an unfinished
 * record, whatever finishes after it.
 */
export class OffsetTracker {
  private readonly partitions = new Map<string, PartitionOffsets>();

  private state(ref: PartitionRef): PartitionOffsets {
    const key = partitionKey(ref);
    let state = this.partitions.get(key);
    if (!state) {
      state = {
        ref: { topic: ref.topic, partition: ref.partition },
        pending: new Set(),
        end: undefined,
        committed: undefined,
      };
      this.partitions.set(key, state);
    }
    return state;
  }

  /** A record was delivered (again, possibly). */
  begin(ref: PartitionRef, offset: string): void {
    const state = this.state(ref);
    const at = BigInt(offset);
    if (state.end === undefined && state.committed === undefined) state.committed = at;
    state.pending.add(at);
    if (state.end === undefined || at + 1n > state.end) state.end = at + 1n;
  }

  /** A record is done (started, forwarded, dead-lettered, …): it no longer holds the commit back. */
  finish(ref: PartitionRef, offset: string): void {
    this.state(ref).pending.delete(BigInt(offset));
  }

  /** Positions that moved since the last call: `nextOffset` is the first unfinished offset. */
  committable(): (PartitionRef & { nextOffset: string })[] {
    const out: (PartitionRef & { nextOffset: string })[] = [];
    for (const state of this.partitions.values()) {
      if (state.end === undefined) continue;
      let next = state.end;
      for (const offset of state.pending) if (offset < next) next = offset;
      if (state.committed !== undefined && next <= state.committed) continue;
      state.committed = next;
      out.push({ ...state.ref, nextOffset: next.toString() });
    }
    return out;
  }

  /** Forgets a commit that did not happen, so the position is offered again. */
  uncommitted(position: PartitionRef & { nextOffset: string }): void {
    const state = this.state(position);
    if (state.committed === BigInt(position.nextOffset)) state.committed = BigInt(position.nextOffset) - 1n;
  }

  /** Forgets everything (after a rebalance the group's committed offsets are the truth again). */
  reset(): void {
    this.partitions.clear();
  }
}
