import type { Logger } from '@sandbox-routing/shared';
import { type BackoffPolicy, backoffDelay } from './backoff';
import { type ConsumedRecord, coordinatesOf, type PartitionRef, partitionKey } from './kafka/records';
import type { MessageSource } from './kafka/seam';
import { OffsetTracker } from './offsets';

/** What handling a record came to. */
export type Outcome =
  /** Done for good (started, forwarded, dead-lettered, …): the offset may be committed. */
  | { status: 'done'; action: string }
  /** Not now (Temporal, the brokers or the routeserver are away): deliver it again after a back-off. */
  | { status: 'retry'; operation: string; error: Error }
  /** Shutdown interrupted it: leave it uncommitted, it is delivered again after the restart. */
  | { status: 'stopped' };

/** Handles one record; resolves with what became of it, and throws only for what must stop the service. */
export type RecordHandler = (record: ConsumedRecord, signal: AbortSignal) => Promise<Outcome>;

export interface ConsumerLoopOptions {
  source: MessageSource;
  handle: RecordHandler;
  backoff: BackoffPolicy;
  logger: Logger;
  /** A record's handling threw: the service cannot go on (e.g. the dead-letter topic refuses writes). */
  onFatal: (error: unknown) => void;
  /** Told when a partition starts or stops backing off, and for which operation. */
  onBackoff?: (partition: PartitionRef, operation: string | undefined) => void;
  /** Delay before retrying a failed commit; later successful records commit sooner. */
  commitRetryMs?: number;
  /** How long `stop` waits for the last commit. */
  finalCommitTimeoutMs?: number;
  random?: () => number;
}

interface Backoff {
  attempt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Drives a {@link MessageSource}: hands each record to the handler and commits, per partition, the
 * offsets before the first record not done yet. A record that cannot be handled now is never
 * retried inside the delivery: its partition is paused, rewound to it, and resumed after a back-off,
 * so the consumer stays a live group member, its other partitions keep flowing, and shutdown never
 * waits for a retry loop.
 *
 * Records of a partition are handled one at a time today; the offset tracker already commits only the
 * contiguous prefix of finished offsets, so a bounded window of records in flight per partition can be
 * added here without changing the commit rule.
 */
export class ConsumerLoop {
  private readonly offsets = new OffsetTracker();
  private readonly backoffs = new Map<string, Backoff>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private stopping = false;
  private commitRunning: Promise<void> | undefined;
  private commitAgain = false;
  private commitTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ConsumerLoopOptions) {
    options.source.onStateChange(({ state }) => {
      // A rebalance or a restart: the group's committed offsets are the truth again, pauses are gone.
      if (state === 'joining' || state === 'crashed') this.offsets.reset();
    });
  }

  /** Partitions backing off right now. */
  get backingOff(): number {
    return [...this.backoffs.values()].filter((b) => b.timer !== undefined).length;
  }

  start(): Promise<void> {
    return this.options.source.start((record) => this.deliver(record));
  }

  private async deliver(record: ConsumedRecord): Promise<void> {
    if (this.stopping) return; // left uncommitted; delivered again after the restart
    const handling = this.handle(record);
    this.inFlight.add(handling);
    try {
      await handling;
    } finally {
      this.inFlight.delete(handling);
    }
  }

  private async handle(record: ConsumedRecord): Promise<void> {
    const { logger } = this.options;
    this.offsets.begin(record, record.offset);
    let outcome: Outcome;
    try {
      outcome = await this.options.handle(record, this.abort.signal);
    } catch (error) {
      this.options.source.pause(record, record.offset);
      logger.error(
        { record: coordinatesOf(record), error: error instanceof Error ? error.message : String(error) },
        'cannot handle record; stopping the partition',
      );
      this.options.onFatal(error);
      return;
    }
    switch (outcome.status) {
      case 'done':
        this.offsets.finish(record, record.offset);
        this.clearBackoff(record);
        this.commitSoon();
        return;
      case 'retry':
        this.retryLater(record, outcome.operation, outcome.error);
        return;
      case 'stopped':
        return;
    }
  }

  /** Pauses the record's partition, rewound to it, and resumes it after the next back-off delay. */
  private retryLater(record: ConsumedRecord, operation: string, error: Error): void {
    const key = partitionKey(record);
    const backoff = this.backoffs.get(key) ?? { attempt: 0, timer: undefined };
    backoff.attempt += 1;
    const delayMs = backoffDelay(this.options.backoff, backoff.attempt, this.options.random);
    this.options.source.pause(record, record.offset);
    if (backoff.timer) clearTimeout(backoff.timer);
    const ref: PartitionRef = { topic: record.topic, partition: record.partition };
    backoff.timer = setTimeout(() => {
      backoff.timer = undefined;
      if (!this.stopping) this.options.source.resume(ref);
    }, delayMs);
    this.backoffs.set(key, backoff);
    if (backoff.attempt === 1) this.options.onBackoff?.(ref, operation);
    this.options.logger.warn(
      { record: coordinatesOf(record), operation, attempt: backoff.attempt, delayMs, error: error.message },
      `${operation} failed; partition paused, retrying`,
    );
  }

  private clearBackoff(ref: PartitionRef): void {
    const key = partitionKey(ref);
    const backoff = this.backoffs.get(key);
    if (!backoff) return;
    if (backoff.timer) clearTimeout(backoff.timer);
    this.backoffs.delete(key);
    this.options.onBackoff?.({ topic: ref.topic, partition: ref.partition }, undefined);
  }

  /** Commits what became committable; one commit request at a time, the latest positions win. */
  private commitSoon(): void {
    if (this.commitRunning) {
      this.commitAgain = true;
      return;
    }
    this.commitRunning = this.commitNow().finally(() => {
      this.commitRunning = undefined;
      if (this.commitAgain && !this.stopping) {
        this.commitAgain = false;
        this.commitSoon();
      }
    });
  }

  private async commitNow(): Promise<void> {
    const positions = this.offsets.committable();
    if (positions.length === 0) return;
    try {
      await this.options.source.commit(positions);
    } catch (error) {
      // Lost partitions (a rebalance) or the brokers away: offer the positions again. An offset never
      // committed only means its record is delivered again, and its second handling finds it done.
      for (const position of positions) this.offsets.uncommitted(position);
      this.options.logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        'offset commit failed; will retry',
      );
      if (!this.stopping && !this.commitTimer) {
        this.commitTimer = setTimeout(() => {
          this.commitTimer = undefined;
          this.commitSoon();
        }, this.options.commitRetryMs ?? 1000);
        this.commitTimer.unref();
      }
    }
  }

  /**
   * Stops: no new record is handled, the one in hand is interrupted (it stays uncommitted), what was
   * done is committed, then the consumer leaves the group. Bounded: nothing here waits for a retry.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    for (const backoff of this.backoffs.values()) if (backoff.timer) clearTimeout(backoff.timer);
    if (this.commitTimer) clearTimeout(this.commitTimer);
    await Promise.allSettled([...this.inFlight]);
    // The last commit is worth a moment, not a hang when the brokers are away (a lost commit is a redelivery).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      (async () => {
        await this.commitRunning;
        await this.commitNow();
      })(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.finalCommitTimeoutMs ?? 3000);
      }),
    ]);
    clearTimeout(timer);
    await this.options.source.stop();
  }
}
