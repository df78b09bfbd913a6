import { KafkaJSError } from 'kafkajs';
import { BrokerError, type BrokerErrorReason } from '../seam';

/** Kafka error codes (kafkajs's `type` names) that retrying the same request cannot fix. */
const PERMANENT: Readonly<Record<string, BrokerErrorReason>> = {
  MESSAGE_TOO_LARGE: 'too-large',
  RECORD_LIST_TOO_LARGE: 'too-large',
  TOPIC_AUTHORIZATION_FAILED: 'not-authorized',
  GROUP_AUTHORIZATION_FAILED: 'not-authorized',
  CLUSTER_AUTHORIZATION_FAILED: 'not-authorized',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'not-authorized',
  SASL_AUTHENTICATION_FAILED: 'not-authorized',
  INVALID_RECORD: 'invalid-record',
  CORRUPT_MESSAGE: 'invalid-record',
  INVALID_TOPIC_EXCEPTION: 'invalid-record',
  INVALID_REQUIRED_ACKS: 'invalid-record',
  POLICY_VIOLATION: 'invalid-record',
  INVALID_REPLICATION_FACTOR: 'invalid-record',
  INVALID_PARTITIONS: 'invalid-record',
  INVALID_CONFIG: 'invalid-record',
};

/** The innermost cause: kafkajs wraps the broker's answer in `KafkaJSNumberOfRetriesExceeded` and friends. */
function rootCause(error: Error): Error {
  let current = error;
  for (let depth = 0; depth < 10 && current.cause instanceof Error; depth++) current = current.cause;
  return current;
}

/**
 * A kafkajs error as a {@link BrokerError}: permanent refusals (too large, not authorized, invalid)
 * are told apart from everything worth retrying (no broker, leader moved, timeouts, retries exhausted
 * on such errors). Anything that is not a kafkajs error (a bug) is returned unchanged.
 */
export function toBrokerError(error: unknown, doing: string): unknown {
  if (!(error instanceof KafkaJSError)) return error;
  const root = rootCause(error);
  const type = (root as { type?: unknown }).type;
  const message = `${doing}: ${root.message}`;
  if (typeof type === 'string') {
    const reason = PERMANENT[type];
    if (reason) return new BrokerError(message, reason, false, { cause: error });
    if (type === 'UNKNOWN_TOPIC_OR_PARTITION')
      return new BrokerError(message, 'unknown-topic', true, { cause: error });
  }
  if (root.name === 'KafkaJSTopicMetadataNotLoaded')
    return new BrokerError(message, 'unknown-topic', true, { cause: error });
  // kafkajs marks what its own retries may fix; a validation error of ours is its NonRetriableError.
  const retriable = (root as KafkaJSError).retriable !== false || root.name === 'KafkaJSConnectionError';
  return new BrokerError(message, retriable ? 'unavailable' : 'invalid-record', retriable, { cause: error });
}
