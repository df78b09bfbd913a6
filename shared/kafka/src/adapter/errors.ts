import { classifyKafkajsError, isKafkajsError } from '../kafkajs-log';
import { BrokerError } from '../seam';

/**
 * A kafkajs error as a {@link BrokerError} (classified by shared's `classifyKafkajsError`: permanent
 * refusals apart from what is worth retrying). Anything that is not a kafkajs error (a bug) is
 * returned unchanged.
 */
export function toBrokerError(error: unknown, doing: string): unknown {
  if (!isKafkajsError(error)) return error;
  const { reason, retriable, message } = classifyKafkajsError(error);
  return new BrokerError(`${doing}: ${message}`, reason, retriable, { cause: error });
}
