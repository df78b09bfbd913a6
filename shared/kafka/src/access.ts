/**
 * Refused credentials are not outages. A wrong SASL password, a broker certificate the client does not
 * trust or a client certificate the broker does not take fail the same way on every attempt, so
 * retrying them for ever (as an outage is) hides the problem. These functions tell them apart and say
 * which setting to check.
 */

/** Node's TLS verification codes for a server certificate the client does not trust. */
const UNTRUSTED_SERVER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** Every error in the `cause` chain, outermost first. */
function chain(error: unknown): (Error & { code?: unknown })[] {
  const out: (Error & { code?: unknown })[] = [];
  let current = error;
  for (let depth = 0; depth < 10 && current instanceof Error; depth++) {
    out.push(current);
    current = current.cause;
  }
  return out;
}

const SASL_SETTINGS =
  'KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE';

/**
 * What to check when `error` is Kafka refusing this client's credentials or TLS (naming the
 * settings), or undefined when it is anything else (an outage, a refusal of one request).
 */
export function kafkaAccessProblem(error: unknown): string | undefined {
  for (const e of chain(error)) {
    if (e.name === 'KafkaJSSASLAuthenticationError') {
      return `Kafka refused the SASL credentials (check ${SASL_SETTINGS}): ${e.message}`;
    }
    const code = typeof e.code === 'string' ? e.code : '';
    if (UNTRUSTED_SERVER.has(code)) {
      return `the Kafka broker's certificate is not trusted (${code}; check KAFKA_TLS_CA_FILE, empty means the system's CAs): ${e.message}`;
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return `the Kafka broker's certificate does not name the address it was reached at (check KAFKA_BROKERS, or set KAFKA_TLS_SERVER_NAME to a name it has): ${e.message}`;
    }
    if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
      return `the Kafka broker does not speak TLS on that port (check KAFKA_BROKERS and KAFKA_TLS): ${e.message}`;
    }
    if (/^ERR_SSL_.*(ALERT|CERTIFICATE)/.test(code) || code.startsWith('ERR_TLS_')) {
      return `the Kafka broker refused the TLS connection (${code}; check KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE, which its CA must have signed, and KAFKA_TLS_CA_FILE): ${e.message}`;
    }
  }
  return undefined;
}

/**
 * What to check when the broker closed a new connection at its first request: a listener that wants
 * TLS or SASL does that to a plaintext client, and so does a SASL listener to a client that did not
 * authenticate. Undefined for other errors.
 */
export function kafkaClosedConnectionHint(error: unknown): string | undefined {
  const closed = chain(error).some(
    (e) => e.name === 'KafkaJSConnectionClosedError' || /^Closed connection$/.test(e.message),
  );
  if (!closed) return undefined;
  return (
    'the Kafka broker closed the connection at the first request: it most likely expects TLS or SASL ' +
    '(check KAFKA_TLS, KAFKA_SASL_MECHANISM and that KAFKA_BROKERS is the listener meant for them)'
  );
}

/** Kafka refused this client's credentials or TLS: fix the settings the message names, then restart. */
export class KafkaAccessError extends Error {
  override readonly name = 'KafkaAccessError';
  /** Retrying cannot help. */
  readonly retriable = false;
}

/** A client that connects and asks for the cluster's metadata, once (kafkajs's `Admin` fits). */
export interface AccessProbe {
  connect(): Promise<void>;
  describeCluster(): Promise<unknown>;
  disconnect(): Promise<void>;
}

/**
 * Connects once and asks for the cluster's metadata, to stop at start when Kafka refuses the
 * credentials or TLS, or closes the connection at once (a plaintext client of a TLS or SASL listener),
 * instead of retrying that for ever. Resolves with `unreachable` when no broker answered (an outage:
 * the caller's own retries wait it out), `ok` otherwise.
 * @throws KafkaAccessError saying which settings to check
 */
export async function checkKafkaAccess(probe: AccessProbe): Promise<'ok' | 'unreachable'> {
  try {
    await probe.connect();
    await probe.describeCluster();
    return 'ok';
  } catch (error) {
    const problem = kafkaAccessProblem(error) ?? kafkaClosedConnectionHint(error);
    if (problem) throw new KafkaAccessError(problem, { cause: error });
    return 'unreachable';
  } finally {
    await probe.disconnect().catch(() => undefined);
  }
}
