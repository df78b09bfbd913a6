import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CARRIED_DECISION_HEADER } from '@sandbox-routing/core';
import { fenceOf, fenceRecord, isControlRecord, RETURNED_FOR_HEADER } from './fence';
import { consumerGroupOf, forwardTopicOf } from './forward-topics';
import { type ConsumedRecord, withHeader, withoutHeader } from './records';
import type { MessageSink, MessageSource, TopicAdmin } from './seam';

/** The teardown will not run: the sandbox still exists, or its ingress still consumes. */
export class TeardownRefusedError extends Error {
  override readonly name = 'TeardownRefusedError';
}

/** A step did not finish in time; nothing was deleted, and running the teardown again resumes it. */
export class TeardownTimeoutError extends Error {
  override readonly name = 'TeardownTimeoutError';
}

export interface SandboxDrainOptions {
  eventsTopic: string;
  /** The base consumer group: the fork's group is `<group>-<sandbox>`. */
  consumerGroup: string;
  admin: TopicAdmin;
  sink: MessageSink;
  openSource: (options: { groupId: string; topic: string; fromBeginning: boolean }) => MessageSource;
  /** Asks the routeserver now whether the sandbox forks the ingress's baseline workload. */
  forksWorkload: (sandbox: string) => Promise<boolean>;
  /** How long to wait for the fork's consumers to leave its group. */
  forkGoneTimeoutMs: number;
  /** How long to wait for the baseline ingress to pass the fence on every partition. */
  fenceTimeoutMs: number;
  /** How long moving the leftovers may take. */
  moveTimeoutMs: number;
  log?: (message: string) => void;
}

export interface DrainRequest {
  sandbox: string;
  /** Count what is left, change nothing. */
  dryRun?: boolean;
  /** Go on although the routeserver still has rules for the sandbox or its group has members. */
  force?: boolean;
}

/** What the teardown found and did. */
export interface DrainReport {
  sandbox: string;
  topic: string;
  group: string;
  topicExisted: boolean;
  /** Records left unprocessed in the sandbox topic (control records not counted). */
  leftover: number;
  /** Records moved back to the events topic. */
  moved: number;
  /** Partitions of the events topic whose fence the baseline passed. */
  fencedPartitions: number[];
  topicDeleted: boolean;
  groupDeleted: boolean;
  dryRun: boolean;
  /** Set when the sandbox came back while tearing down: its topic was kept for its new ingress. */
  keptBecause?: string;
}

/**
 * Tears down the Kafka side of a deleted sandbox: what the baseline forwarded to the sandbox's topic and
 * its ingress never processed goes back to the events topic (so the baseline starts it), then the topic
 * and the fork's consumer group are deleted. Nothing is dropped:
 *
 * 1. The sandbox must be gone from the routeserver and its ingress gone from its group (else refused).
 * 2. **Fence.** A marker goes into every partition of the events topic. The baseline ingress reaches a
 *    partition's marker after every event before it, confirms with the routeserver that the sandbox is
 *    gone, stops forwarding to it, and forwards the marker to the sandbox topic. When the markers of
 *    all partitions are there, no forward to the topic can follow, whatever route snapshot a baseline
 *    instance holds.
 * 3. **Move.** The fork's group reads the topic from its committed offsets to the end; each record goes
 *    back to the events topic byte for byte (the group's commits make a re-run resume, not repeat).
 * 4. **Delete** the topic and the group, unless the sandbox came back meanwhile.
 *
 * A record moved back whose workflow a fork had already started (started, then not committed) is found
 * started by the baseline (workflow id per event) and not run twice. Workflows the fork started stay
 * pinned to the sandbox's task queue: the worker's teardown command handles those, after this one.
 */
export class SandboxDrain {
  constructor(private readonly options: SandboxDrainOptions) {}

  private log(message: string): void {
    this.options.log?.(message);
  }

  async run(request: DrainRequest): Promise<DrainReport> {
    const { admin, eventsTopic } = this.options;
    const { sandbox } = request;
    const topic = forwardTopicOf(eventsTopic, this.options.consumerGroup, sandbox);
    const group = consumerGroupOf(this.options.consumerGroup, sandbox);
    const report: DrainReport = {
      sandbox,
      topic,
      group,
      topicExisted: await admin.topicExists(topic),
      leftover: 0,
      moved: 0,
      fencedPartitions: [],
      topicDeleted: false,
      groupDeleted: false,
      dryRun: request.dryRun === true,
    };

    if (!request.force && (await this.options.forksWorkload(sandbox))) {
      throw new TeardownRefusedError(
        `sandbox ${sandbox} still has routing rules for this workload; delete the sandbox first (or use --force)`,
      );
    }
    if (!report.topicExisted) {
      this.log(`${topic} does not exist: nothing was forwarded to ${sandbox}, or it was torn down already`);
      if (!report.dryRun) report.groupDeleted = await this.deleteGroup(group);
      return report;
    }
    await this.waitForForkToLeave(group, request.force === true);
    report.leftover = await this.leftover(topic, group);
    if (report.dryRun) return report;

    report.fencedPartitions = await this.fence(sandbox, topic, group);
    report.moved = await this.moveBack(topic, group);

    if (await this.options.forksWorkload(sandbox)) {
      report.keptBecause = `sandbox ${sandbox} has routing rules again: its topic stays for its fork`;
      this.log(report.keptBecause);
      return report;
    }
    await admin.deleteTopic(topic);
    report.topicDeleted = true;
    report.groupDeleted = await this.deleteGroup(group);
    this.log(`deleted ${topic} and group ${group}`);
    return report;
  }

  private async waitForForkToLeave(group: string, force: boolean): Promise<void> {
    const deadline = Date.now() + this.options.forkGoneTimeoutMs;
    for (;;) {
      const { members } = await this.options.admin.describeGroup(group);
      if (members === 0) return;
      if (Date.now() >= deadline) {
        if (force) {
          this.log(`group ${group} still has ${members} member(s); going on (--force)`);
          return;
        }
        throw new TeardownRefusedError(
          `group ${group} still has ${members} member(s): the sandbox's consumer is still running; stop it first (or use --force)`,
        );
      }
      await sleep(500);
    }
  }

  /** Records after the fork's committed position (the earliest stored offset where it never committed). */
  private async leftover(topic: string, group: string): Promise<number> {
    const [offsets, committed] = await Promise.all([
      this.options.admin.offsets(topic),
      this.options.admin.committedOffsets(group, topic),
    ]);
    let count = 0n;
    for (const [partition, { low, high }] of offsets) {
      const from = BigInt(committed.get(partition) ?? low);
      const start = from > BigInt(low) ? from : BigInt(low);
      if (BigInt(high) > start) count += BigInt(high) - start;
    }
    return Number(count);
  }

  /** Writes a marker into every events partition and waits until all of them arrive in `topic`. */
  private async fence(sandbox: string, topic: string, group: string): Promise<number[]> {
    const { eventsTopic } = this.options;
    const fenceId = randomUUID();
    const partitions = await this.options.admin.partitions(eventsTopic);
    await this.options.sink.produce(
      eventsTopic,
      partitions.map((partition) =>
        fenceRecord({ sandbox, fenceId, partition, group: this.options.consumerGroup }),
      ),
    );
    this.log(`fence ${fenceId} written to ${partitions.length} partition(s) of ${eventsTopic}`);

    const seen = new Set<number>();
    const watcherGroup = `${group}.teardown-${fenceId}`;
    const watcher = this.options.openSource({ groupId: watcherGroup, topic, fromBeginning: true });
    try {
      await watcher.start(async (record) => {
        const marker = fenceOf(record);
        if (marker?.fenceId === fenceId) seen.add(marker.partition);
      });
      await this.until(
        () => partitions.every((p) => seen.has(p)),
        this.options.fenceTimeoutMs,
        () =>
          `the baseline consumer did not pass the fence on partition(s) ${partitions
            .filter((p) => !seen.has(p))
            .join(
              ', ',
            )} of ${eventsTopic} within ${this.options.fenceTimeoutMs} ms: is it running? Nothing was deleted`,
      );
    } finally {
      await watcher.stop();
      await this.deleteGroup(watcherGroup).catch(() => false);
    }
    this.log(`the baseline passed the fence on every partition`);
    return partitions;
  }

  /** Moves every record after the fork's committed position back to the events topic, byte for byte. */
  private async moveBack(topic: string, group: string): Promise<number> {
    const { admin, sink, eventsTopic } = this.options;
    const [offsets, committed] = await Promise.all([
      admin.offsets(topic),
      admin.committedOffsets(group, topic),
    ]);
    /** Per partition, the offset the last record to move has; partitions with nothing left are absent. */
    const lastToMove = new Map<number, bigint>();
    for (const [partition, { low, high }] of offsets) {
      const from = BigInt(committed.get(partition) ?? low);
      if (BigInt(high) > from) lastToMove.set(partition, BigInt(high) - 1n);
    }
    if (lastToMove.size === 0) return 0;

    let moved = 0;
    const reached = new Set<number>();
    const source = this.options.openSource({ groupId: group, topic, fromBeginning: true });
    try {
      await source.start(async (record: ConsumedRecord) => {
        const last = lastToMove.get(record.partition);
        if (last === undefined || BigInt(record.offset) > last) return;
        if (!isControlRecord(record)) {
          // As it was first published, without the decision the forward added (the baseline decides
          // again), and marked for this workload's group: the source topic's other groups had it already.
          await sink.produce(eventsTopic, [
            withHeader(
              withoutHeader(record, CARRIED_DECISION_HEADER),
              RETURNED_FOR_HEADER,
              this.options.consumerGroup,
            ),
          ]);
          moved++;
        }
        await source.commit([{ ...record, nextOffset: (BigInt(record.offset) + 1n).toString() }]);
        if (BigInt(record.offset) === last) reached.add(record.partition);
      });
      await this.until(
        () => [...lastToMove.keys()].every((p) => reached.has(p)),
        this.options.moveTimeoutMs,
        () =>
          `moving ${topic} back to ${eventsTopic} did not finish within ${this.options.moveTimeoutMs} ms (${moved} moved so far; run the teardown again to resume)`,
      );
    } finally {
      await source.stop();
    }
    this.log(`moved ${moved} record(s) from ${topic} back to ${eventsTopic}`);
    return moved;
  }

  private async deleteGroup(group: string): Promise<boolean> {
    await this.options.admin.deleteGroup(group);
    return true;
  }

  private async until(condition: () => boolean, timeoutMs: number, failure: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() >= deadline) throw new TeardownTimeoutError(failure());
      await sleep(100);
    }
  }
}
