import { type TrailRecord, trailRecordKey } from './record';

/** One record as a message: the key is its event id (else its workflow id), the value its JSON. */
export interface TrailMessage {
  key: string;
  value: string;
}

/** Where records go: the Kafka results topic (`kafkaTrailTransport`), or anything else. */
export interface TrailTransport {
  /** Sends one batch; rejects when none of it can be taken to be sent (it is retried whole). */
  send(messages: readonly TrailMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** What the emitter logs: a pino logger fits. */
export interface TrailLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

export interface TrailEmitterOptions {
  transport: TrailTransport;
  /** Most records held while the transport is slow or away; beyond it new records are dropped. */
  capacity?: number;
  /** Most records per send. */
  maxBatch?: number;
  /**
   * How long the first record waits for others to join its send (default 20 ms). A send per record
   * cost the ingress a Kafka request per event; a trail record a moment later changes nothing. 0: the
   * records emitted in the same tick go together. `close` does not wait for it.
   */
  lingerMs?: number;
  /** Back-off after a failed send: doubles from `initialRetryMs` up to `maxRetryMs`. */
  initialRetryMs?: number;
  maxRetryMs?: number;
  logger?: TrailLogger;
}

export interface TrailEmitterStats {
  /** Records handed to `emit`. */
  emitted: number;
  /** Records the transport accepted. */
  sent: number;
  /** Records dropped: the buffer was full, or still unsent at `close`. */
  dropped: number;
  /** Sends that failed (each is retried). */
  failedSends: number;
  /** Records waiting now. */
  buffered: number;
}

/** A warning at most this often while records keep being dropped or sends keep failing. */
const WARN_INTERVAL_MS = 10_000;

/**
 * Publishes trail records without ever holding up the work they describe: `emit` only appends to a
 * bounded buffer (it never waits, never throws), and one background loop sends batches. When the
 * transport fails (Kafka briefly away), the loop keeps the batch and retries with back-off while the
 * buffer fills; once it is full, new records are dropped, counted and logged (rate-limited). A
 * workflow or activity is never slowed or failed by its trail.
 */
export class TrailEmitter {
  private readonly transport: TrailTransport;
  private readonly capacity: number;
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  private readonly initialRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly logger: TrailLogger | undefined;
  private buffer: TrailMessage[] = [];
  private counts = { emitted: 0, sent: 0, dropped: 0, failedSends: 0 };
  private flushing: Promise<void> | undefined;
  private retryDelayMs = 0;
  private pauseTimer: NodeJS.Timeout | undefined;
  private wakePause: (() => void) | undefined;
  private closed = false;
  private lastDropWarning = 0;
  private droppedSinceWarning = 0;
  private lastSendWarning = 0;

  constructor(options: TrailEmitterOptions) {
    this.transport = options.transport;
    this.capacity = options.capacity ?? 10_000;
    this.maxBatch = options.maxBatch ?? 500;
    this.lingerMs = Math.max(0, options.lingerMs ?? 20);
    this.initialRetryMs = options.initialRetryMs ?? 200;
    this.maxRetryMs = options.maxRetryMs ?? 5_000;
    this.logger = options.logger;
  }

  /** Queues a record for sending. Returns false when it was dropped (buffer full or closed). */
  emit(record: TrailRecord): boolean {
    this.counts.emitted++;
    if (this.closed || this.buffer.length >= this.capacity) {
      this.drop(1, this.closed ? 'emitter closed' : 'buffer full');
      return false;
    }
    let value: string;
    try {
      value = JSON.stringify(record);
    } catch {
      this.drop(1, 'not serialisable');
      return false;
    }
    this.buffer.push({ key: trailRecordKey(record), value });
    this.flushing ??= this.flushLoop();
    return true;
  }

  stats(): TrailEmitterStats {
    return { ...this.counts, buffered: this.buffer.length };
  }

  /**
   * Sends what is buffered, for up to `timeoutMs`, then drops (and counts) the rest and closes the
   * transport. Later `emit` calls drop their record.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.closed) return;
    // Retry at once rather than after the current back-off.
    this.retryDelayMs = Math.min(this.retryDelayMs, this.initialRetryMs);
    this.wakePause?.();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.flushing ?? Promise.resolve(), deadline]);
    clearTimeout(timer);
    this.closed = true;
    this.wakePause?.();
    const unsent = this.buffer.length;
    this.buffer = [];
    if (unsent > 0) this.drop(unsent, 'unsent at shutdown', true);
    // Closing the transport also ends a send still in flight.
    await this.transport.close().catch(() => undefined);
  }

  private drop(count: number, reason: string, now = false): void {
    this.counts.dropped += count;
    this.droppedSinceWarning += count;
    const time = Date.now();
    if (now || time - this.lastDropWarning >= WARN_INTERVAL_MS) {
      this.logger?.warn(
        { dropped: this.droppedSinceWarning, droppedTotal: this.counts.dropped, reason },
        'trail records dropped',
      );
      this.lastDropWarning = time;
      this.droppedSinceWarning = 0;
    }
  }

  /** Sends batches until the buffer is empty; one loop at a time (`flushing`). */
  private async flushLoop(): Promise<void> {
    // Let the records emitted meanwhile (at least those of the same tick) join the first batch.
    if (this.lingerMs > 0) await this.pause(this.lingerMs);
    else await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.buffer.length > 0 && !this.closed) {
        const batch = this.buffer.slice(0, this.maxBatch);
        try {
          await this.transport.send(batch);
        } catch (error) {
          this.counts.failedSends++;
          this.retryDelayMs = Math.min(
            this.maxRetryMs,
            this.retryDelayMs === 0 ? this.initialRetryMs : this.retryDelayMs * 2,
          );
          const time = Date.now();
          if (time - this.lastSendWarning >= WARN_INTERVAL_MS) {
            this.lastSendWarning = time;
            this.logger?.warn(
              { err: (error as Error).message, buffered: this.buffer.length, retryInMs: this.retryDelayMs },
              'sending trail records failed; retrying',
            );
          }
          await this.pause(this.retryDelayMs);
          continue;
        }
        if (this.closed) {
          // close() counted this batch as dropped while it was in flight; it made it after all.
          this.counts.sent += batch.length;
          this.counts.dropped -= batch.length;
          break;
        }
        if (this.retryDelayMs > 0) {
          this.logger?.info({ buffered: this.buffer.length }, 'sending trail records again');
          this.retryDelayMs = 0;
        }
        // The buffer only grows at its end meanwhile, so the batch is still its head.
        this.buffer.splice(0, batch.length);
        this.counts.sent += batch.length;
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakePause = () => {
        clearTimeout(this.pauseTimer);
        this.wakePause = undefined;
        resolve();
      };
      this.pauseTimer = setTimeout(() => this.wakePause?.(), ms);
      // Never keeps the process alive on its own.
      this.pauseTimer.unref();
    });
  }
}
