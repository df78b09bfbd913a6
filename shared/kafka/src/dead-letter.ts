import { createHash } from 'node:crypto';
import { type ConsumedRecord, coordinatesOf, type RecordHeader } from './records';
import { BrokerError, type MessageSink } from './seam';

/**
 * Why a record was dead-lettered: the consumer's own reasons (`bad-headers`: a routing-key carrier with
 * no valid key; `forward-failed`; `too-large`: the record could not be copied whole, its value moved
 * out), or the service's (e.g. the ingress's `not-json`, `schema`, `unknown-type`, `start-rejected`).
 */
export type DeadLetterReason = string;

/** Headers the dead-letter copy adds after the original's (never replacing one of them). */
export const DEAD_LETTER_HEADERS = {
  reason: 'dead-letter-reason',
  detail: 'dead-letter-detail',
  source: 'dead-letter-source',
  time: 'dead-letter-time',
  valueBytes: 'dead-letter-value-bytes',
  valueSha256: 'dead-letter-value-sha256',
  headersBytes: 'dead-letter-headers-bytes',
  headersSha256: 'dead-letter-headers-sha256',
  /** A refused workflow start (`start-rejected`): the gRPC status Temporal answered, its name, its message. */
  grpcCode: 'dead-letter-grpc-code',
  grpcCodeName: 'dead-letter-grpc-code-name',
  grpcMessage: 'dead-letter-grpc-message',
} as const;

/** Facts about the reason, written as added headers. */
export interface DeadLetterFacts {
  /** The gRPC status a refused workflow start was answered with (`start-rejected`). */
  grpc?: { code: number; name: string; message: string };
}

/** Most characters of `dead-letter-detail`: a detail that echoes hostile input must not blow up the header. */
const MAX_DETAIL = 1000;

/** A dead-letter write failed for a reason no retry fixes (no such topic, not authorized, rejected). */
export class DeadLetterRefusedError extends Error {
  override readonly name = 'DeadLetterRefusedError';
  readonly retriable = false;
}

function text(name: string, value: string): RecordHeader {
  return { name, value: Buffer.from(value, 'utf8') };
}

function sha256(bytes: Buffer | null): string {
  return createHash('sha256')
    .update(bytes ?? Buffer.alloc(0))
    .digest('hex');
}

/** What was written for a dead-lettered record. */
export interface DeadLetterResult {
  /** The reason written: the one asked for, or `too-large` when the value had to be moved out. */
  reason: DeadLetterReason;
  /** What was left out of the copy. */
  movedOut: 'nothing' | 'value' | 'value-and-headers';
}

/**
 * Writes rejected records to the dead-letter topic. The copy is the original record, byte for byte:
 * key, value, every header in order (repeated ones included), timestamp; the reason, a detail, the
 * source coordinates (`topic/partition/offset`), the time and any facts about the reason (the gRPC
 * answer of a refused start) go into added headers. Nothing is lost:
 * the consumer commits the original only after this write succeeded.
 *
 * A copy over the topic's size limit is still written, as reason `too-large`: first without the value
 * (its size and SHA-256 in headers; the original stays at its source coordinates while retained),
 * and if that is still too large, without the original headers too (their size and hash likewise).
 */
export class DeadLetterPublisher {
  constructor(
    private readonly sink: MessageSink,
    readonly topic: string,
  ) {}

  /**
   * @throws BrokerError (retriable) while the brokers are unavailable
   * @throws DeadLetterRefusedError when the topic refuses the write for good
   */
  async publish(
    record: ConsumedRecord,
    reason: DeadLetterReason,
    detail: string,
    facts: DeadLetterFacts = {},
  ): Promise<DeadLetterResult> {
    const factHeaders = facts.grpc
      ? [
          text(DEAD_LETTER_HEADERS.grpcCode, String(facts.grpc.code)),
          text(DEAD_LETTER_HEADERS.grpcCodeName, facts.grpc.name),
          text(DEAD_LETTER_HEADERS.grpcMessage, facts.grpc.message.slice(0, MAX_DETAIL)),
        ]
      : [];
    const added = (written: DeadLetterReason, said: string): RecordHeader[] => [
      text(DEAD_LETTER_HEADERS.reason, written),
      text(DEAD_LETTER_HEADERS.detail, said.slice(0, MAX_DETAIL)),
      text(DEAD_LETTER_HEADERS.source, coordinatesOf(record)),
      text(DEAD_LETTER_HEADERS.time, new Date().toISOString()),
      ...factHeaders,
    ];
    const base = { key: record.key, timestamp: record.timestamp };
    if (
      await this.write({
        ...base,
        value: record.value,
        headers: [...record.headers, ...added(reason, detail)],
      })
    )
      return { reason, movedOut: 'nothing' };

    const tooLargeDetail = `${reason}: ${detail}`;
    const valueFacts = [
      text(DEAD_LETTER_HEADERS.valueBytes, String(record.value?.length ?? 0)),
      text(DEAD_LETTER_HEADERS.valueSha256, sha256(record.value)),
    ];
    if (
      await this.write({
        ...base,
        value: null,
        headers: [...record.headers, ...added('too-large', tooLargeDetail), ...valueFacts],
      })
    )
      return { reason: 'too-large', movedOut: 'value' };

    const headerBytes = Buffer.concat(
      record.headers.flatMap((h) => [Buffer.from(h.name), h.value ?? Buffer.alloc(0)]),
    );
    const written = await this.write({
      ...base,
      value: null,
      headers: [
        ...added('too-large', tooLargeDetail),
        ...valueFacts,
        text(DEAD_LETTER_HEADERS.headersBytes, String(headerBytes.length)),
        text(DEAD_LETTER_HEADERS.headersSha256, sha256(headerBytes)),
      ],
    });
    if (!written)
      throw new DeadLetterRefusedError(`${this.topic} refuses even a record without value and headers`);
    return { reason: 'too-large', movedOut: 'value-and-headers' };
  }

  /** Writes one record; false when it is too large for the topic. */
  private async write(record: Omit<ConsumedRecord, 'topic' | 'partition' | 'offset'>): Promise<boolean> {
    try {
      await this.sink.produce(this.topic, [record]);
      return true;
    } catch (error) {
      if (!(error instanceof BrokerError)) throw error;
      if (error.reason === 'too-large') return false;
      // A missing dead-letter topic is a deployment error, not an outage: do not wait for it.
      if (error.retriable && error.reason !== 'unknown-topic') throw error;
      throw new DeadLetterRefusedError(`cannot write to ${this.topic}: ${error.message}`, { cause: error });
    }
  }
}
