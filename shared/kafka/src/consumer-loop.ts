import { type BackoffPolicy, backoffDelay } from './backoff';
import type { FieldLogger as Logger } from './kafkajs-log';
import { OffsetTracker } from './offsets';
import { type ConsumedRecord, coordinatesOf, type PartitionRef, partitionKey } from './records';
import type { MessageSource } from './seam';

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
  /**
   * Least time between the starts of two commits (default 100 ms): records done meanwhile go in the
   * next one. Committing after every record cost a request per record, about as much broker and client
   * work as the records themselves; a crash redelivers at most this much more (each redelivery is found
   * done). 0 commits as soon as the previous commit is answered. The commit at `stop` never waits.
   */
  commitIntervalMs?: number;
  /** How long `stop` waits for the last commit. */
  finalCommitTimeoutMs?: number;
  /**
   * A partition that keeps failing is warned about once per interval (with the attempt count); each
   * attempt in between is a debug line. Default 60 s.
   */
  retryWarnIntervalMs?: number;
  /**
   * Records of one partition in hand at once (`INGRESS_MAX_IN_FLIGHT`); default 1, one at a time.
   * Records with the same Kafka key still go one after the other, in offset order.
   */
  maxInFlight?: number;
  /**
   * Records handled alone: everything before them in their partition finishes first, nothing after
   * them starts until they are done (the fence markers of a sandbox teardown).
   */
  isBarrier?: (record: ConsumedRecord) => boolean;
  random?: () => number;
}

interface Backoff {
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  /** The operation that failed first, for the line that says the partition goes on. */
  operation: string;
  /** When a warning about this back-off was last written (it is written once per interval). */
  warnedAt: number | undefined;
  /**
   * The offset the partition was rewound to and that has not been delivered again yet: the lowest
   * record that has to wait. It outlives the back-off timer, because records still in hand when the
   * partition resumes may fail too, and their rewind must not pass it.
   */
  rewoundTo: bigint | undefined;
}

/** A partition's records in hand. */
interface PartitionWork {
  /** Handlings in progress, by offset. */
  running: Map<string, Promise<unknown>>;
  /** Offsets done and not yet committed past: a redelivery after a rewind skips them. */
  finished: Set<string>;
  /** The last record of each Kafka key in hand: the next record with that key waits for it. */
  keyTails: Map<string, { offset: string; finished: Promise<boolean> }>;
  /** Deliveries waiting for a free slot. */
  waiting: (() => void)[];
}

/**
 * Drives a {@link MessageSource}: hands records to the handler and commits, per partition, the offset
 * of the first record not done yet, so a commit never passes an unfinished record.
 *
 * **Concurrency and order.** Partitions are consumed side by side (the source delivers them
 * concurrently). Within a partition up to `maxInFlight` records are in hand at once: a delivery
 * returns as soon as its record is started and a slot is free, so the client fetches on while
 * earlier records wait for Temporal. Records with the same Kafka key are handled one after the other
 * in offset order (the next waits for the previous one's outcome), so what one key's records cause
 * (workflow starts, forwards to a sandbox topic) happens in the order they were written; records with
 * different keys, or none, may complete in any order. Control records (`isBarrier`) are handled
 * alone. Nothing orders the workflows' own execution: workers run them concurrently, as always.
 *
 * **Retries.** A record that cannot be handled now is never retried inside the delivery: its
 * partition is paused, rewound to the lowest such record, and resumed after a back-off, so the
 * consumer stays a live group member, its other partitions keep flowing, and shutdown never waits for
 * a retry loop. Records after it that finished meanwhile are skipped when they come again; records
 * still in hand are not handled twice.
 */
export class ConsumerLoop {
  private readonly offsets = new OffsetTracker();
  private readonly backoffs = new Map<string, Backoff>();
  private partitions = new Map<string, PartitionWork>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private readonly maxInFlight: number;
  private stopping = false;
  private commitRunning: Promise<void> | undefined;
  private commitAgain = false;
  private commitTimer: NodeJS.Timeout | undefined;
  /** The next commit, waiting out `commitIntervalMs`. */
  private commitSpacing: NodeJS.Timeout | undefined;
  private lastCommitStartedAt = Number.NEGATIVE_INFINITY;
  private readonly commitIntervalMs: number;

  constructor(private readonly options: ConsumerLoopOptions) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    this.commitIntervalMs = Math.max(0, options.commitIntervalMs ?? 100);
    options.source.onStateChange(({ state }) => {
      // A rebalance or a restart: the group's committed offsets are the truth again, pauses are gone.
      if (state === 'joining' || state === 'crashed') {
        this.offsets.reset();
        this.partitions = new Map();
        // Positions restart from the committed offsets, at or below any rewind.
        for (const backoff of this.backoffs.values()) backoff.rewoundTo = undefined;
      }
    });
  }

  /** Partitions backing off right now. */
  get backingOff(): number {
    return [...this.backoffs.values()].filter((b) => b.timer !== undefined).length;
  }

  /** Records in hand right now, over every partition. */
  get handling(): number {
    return this.inFlight.size;
  }

  start(): Promise<void> {
    return this.options.source.start((record) => this.deliver(record));
  }

  private work(ref: PartitionRef): PartitionWork {
    const key = partitionKey(ref);
    let work = this.partitions.get(key);
    if (!work) {
      work = { running: new Map(), finished: new Set(), keyTails: new Map(), waiting: [] };
      this.partitions.set(key, work);
    }
    return work;
  }

  /**
   * Takes a record from the source. Resolves once the partition has room for the next one: at once
   * while fewer than `maxInFlight` records are in hand, else when one of them is done.
   */
  private async deliver(record: ConsumedRecord): Promise<void> {
    if (this.stopping) return; // left uncommitted; delivered again after the restart
    const backoff = this.backoffs.get(partitionKey(record));
    if (backoff?.rewoundTo === BigInt(record.offset)) backoff.rewoundTo = undefined; // the rewind arrived
    const work = this.work(record);
    // Delivered again after a rewind: what finished stays finished, what is in hand keeps its handling
    // (if that does not end done, it rewinds the partition to the record again).
    if (work.finished.has(record.offset) || work.running.has(record.offset)) return;
    // From now on the commit cannot pass this record until it is done.
    this.offsets.begin(record, record.offset);
    if (this.options.isBarrier?.(record)) {
      await Promise.allSettled([...work.running.values()]);
      await this.track(work, record, this.handle(work, record));
      return;
    }
    const key = record.key === null ? undefined : record.key.toString('base64');
    const previous = key === undefined ? undefined : work.keyTails.get(key);
    const handling = (async (): Promise<boolean> => {
      // Same key, in offset order: an earlier record of the key that must wait holds this one back.
      if (previous && !(await previous.finished)) {
        if (!this.stopping) {
          const waitsFor = new Error(`waits for offset ${previous.offset} of the same key`);
          this.guarded(record, () => this.retryLater(record, 'key order', waitsFor), undefined);
        }
        return false;
      }
      return this.handle(work, record);
    })();
    if (key !== undefined) work.keyTails.set(key, { offset: record.offset, finished: handling });
    void this.track(work, record, handling).finally(() => {
      if (key !== undefined && work.keyTails.get(key)?.finished === handling) work.keyTails.delete(key);
    });
    while (work.running.size >= this.maxInFlight && !this.stopping) {
      await new Promise<void>((resolve) => work.waiting.push(resolve));
    }
  }

  /** Counts `handling` as in hand until it settles, then frees its slot. */
  private async track(
    work: PartitionWork,
    record: ConsumedRecord,
    handling: Promise<unknown>,
  ): Promise<void> {
    work.running.set(record.offset, handling);
    this.inFlight.add(handling);
    try {
      await handling;
    } finally {
      work.running.delete(record.offset);
      this.inFlight.delete(handling);
      work.waiting.shift()?.();
    }
  }

  /** Handles one record; resolves with whether it is done for good. Never rejects. */
  private async handle(work: PartitionWork, record: ConsumedRecord): Promise<boolean> {
    if (this.stopping) return false;
    let outcome: Outcome;
    try {
      outcome = await this.options.handle(record, this.abort.signal);
    } catch (error) {
      this.fatal(record, error);
      return false;
    }
    return this.guarded(
      record,
      () => {
        switch (outcome.status) {
          case 'done':
            work.finished.add(record.offset);
            this.offsets.finish(record, record.offset);
            this.clearBackoff(record);
            this.commitSoon();
            return true;
          case 'retry':
            this.retryLater(record, outcome.operation, outcome.error);
            return false;
          case 'stopped':
            return false;
        }
      },
      false,
    );
  }

  /**
   * Runs the loop's own bookkeeping for `record`. What it throws (a bug, a client call that refuses)
   * stops the service through `onFatal`, like a handler that throws: never an unhandled rejection,
   * which would end the process at once, without a clean stop and with nothing in the log.
   */
  private guarded<T>(record: ConsumedRecord, step: () => T, failed: T): T {
    try {
      return step();
    } catch (error) {
      this.fatal(record, error);
      return failed;
    }
  }

  /** The record cannot be handled: stop its partition (if the client still can) and report it. */
  private fatal(record: ConsumedRecord, error: unknown): void {
    try {
      this.options.source.pause(record, record.offset);
    } catch {
      // The client cannot pause now; the service stops anyway and nothing past the record is committed.
    }
    this.options.logger.error(
      { record: coordinatesOf(record), error: error instanceof Error ? error.message : String(error) },
      'cannot handle record; stopping the partition',
    );
    this.options.onFatal(error);
  }

  /**
   * Pauses the record's partition, rewound to it (or to an earlier record already waiting), and
   * resumes it after the next back-off delay.
   */
  private retryLater(record: ConsumedRecord, operation: string, error: Error): void {
    const key = partitionKey(record);
    const backoff: Backoff = this.backoffs.get(key) ?? {
      attempt: 0,
      timer: undefined,
      rewoundTo: undefined,
      operation,
      warnedAt: undefined,
    };
    const offset = BigInt(record.offset);
    const ref: PartitionRef = { topic: record.topic, partition: record.partition };
    // Several records in hand may fail for the same reason: one back-off, from the lowest of them.
    if (backoff.timer !== undefined && backoff.rewoundTo !== undefined && backoff.rewoundTo <= offset) return;
    if (backoff.timer === undefined) backoff.attempt += 1;
    const delayMs = backoffDelay(this.options.backoff, backoff.attempt, this.options.random);
    // Never past an earlier record that has not been delivered again since its own rewind.
    const rewindTo =
      backoff.rewoundTo !== undefined && backoff.rewoundTo < offset ? backoff.rewoundTo : offset;
    this.options.source.pause(ref, rewindTo.toString());
    backoff.rewoundTo = rewindTo;
    if (backoff.timer) clearTimeout(backoff.timer);
    backoff.timer = setTimeout(() => {
      backoff.timer = undefined;
      if (!this.stopping) this.options.source.resume(ref);
    }, delayMs);
    this.backoffs.set(key, backoff);
    if (backoff.attempt === 1) this.options.onBackoff?.(ref, operation);
    // An outage fails every attempt: one warning, then one per interval, not one per attempt.
    const fields = {
      record: coordinatesOf(record),
      operation,
      attempt: backoff.attempt,
      delayMs,
      error: error.message,
    };
    const now = Date.now();
    if (
      backoff.warnedAt === undefined ||
      now - backoff.warnedAt >= (this.options.retryWarnIntervalMs ?? 60_000)
    ) {
      backoff.warnedAt = now;
      this.options.logger.warn(fields, `${operation} failed; partition paused, retrying`);
    } else {
      this.options.logger.debug(fields, `${operation} failed again; partition paused, retrying`);
    }
  }

  private clearBackoff(ref: PartitionRef): void {
    const key = partitionKey(ref);
    const backoff = this.backoffs.get(key);
    // Still waiting for an earlier record: its back-off runs, or its redelivery has not come yet.
    if (!backoff || backoff.timer !== undefined || backoff.rewoundTo !== undefined) return;
    this.backoffs.delete(key);
    this.options.onBackoff?.({ topic: ref.topic, partition: ref.partition }, undefined);
    this.options.logger.info(
      { partition: partitionKey(ref), operation: backoff.operation, attempts: backoff.attempt },
      `partition resumed after ${backoff.attempt} failed attempt${backoff.attempt === 1 ? '' : 's'} (${backoff.operation})`,
    );
  }

  /**
   * Commits what became committable: one commit request at a time, at most one per `commitIntervalMs`,
   * the latest positions win.
   */
  private commitSoon(): void {
    if (this.commitRunning) {
      this.commitAgain = true;
      return;
    }
    if (this.commitSpacing || this.stopping) return;
    const wait = this.lastCommitStartedAt + this.commitIntervalMs - performance.now();
    if (wait > 0) {
      this.commitSpacing = setTimeout(() => {
        this.commitSpacing = undefined;
        this.commitSoon();
      }, wait);
      // `stop` commits what is left itself; this timer never keeps the process alive.
      this.commitSpacing.unref();
      return;
    }
    this.lastCommitStartedAt = performance.now();
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
      // Below a committed position nothing is delivered again (but after a rebalance, which resets).
      for (const position of positions) {
        const work = this.partitions.get(partitionKey(position));
        const next = BigInt(position.nextOffset);
        for (const offset of work?.finished ?? []) if (BigInt(offset) < next) work?.finished.delete(offset);
      }
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
   * Stops: no new record is handled, those in hand are interrupted (they stay uncommitted), what was
   * done is committed, then the consumer leaves the group. Bounded: nothing here waits for a retry.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    for (const backoff of this.backoffs.values()) if (backoff.timer) clearTimeout(backoff.timer);
    if (this.commitTimer) clearTimeout(this.commitTimer);
    if (this.commitSpacing) clearTimeout(this.commitSpacing);
    for (const work of this.partitions.values()) for (const wake of work.waiting.splice(0)) wake();
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
