import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { type TemporalConfig, temporalSecurityOptions } from '../config';

/** Address, TLS (CA, client certificate, server name) and API key; the files are read here. */
function options(config: TemporalConfig) {
  return { address: config.address, ...temporalSecurityOptions(config) };
}

/**
 * gRPC reconnect back-off of client connections. grpc-js's default grows to 120 s, so a service that
 * saw Temporal away for a minute would keep failing for up to two more after Temporal is back.
 */
const CLIENT_CHANNEL_ARGS = {
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2000,
};

/** A client connection (for starting workflows) from the Temporal settings. */
export function connectClient(config: TemporalConfig): Promise<Connection> {
  return Connection.connect({ ...options(config), channelArgs: CLIENT_CHANNEL_ARGS });
}

/**
 * A client connection that connects on first use: a service can start (and back off per request)
 * while Temporal is away, instead of failing at start-up.
 */
export function lazyClientConnection(config: TemporalConfig): Connection {
  return Connection.lazy({ ...options(config), channelArgs: CLIENT_CHANNEL_ARGS });
}

/** Temporal refused this client's TLS settings: fix the settings the message names, then restart. */
export class TemporalAccessError extends Error {
  override readonly name = 'TemporalAccessError';
  /** Retrying cannot help. */
  readonly retriable = false;
}

const TLS_SETTINGS =
  'TEMPORAL_TLS_CA_FILE, TEMPORAL_TLS_CERT_FILE, TEMPORAL_TLS_KEY_FILE, TEMPORAL_TLS_SERVER_NAME';

/**
 * What to check when the worker's connection (Temporal's Rust core) failed on TLS, naming the settings;
 * undefined for anything else (an outage). The words are rustls's, as the secured-paths test measured
 * them: a server that wants a client certificate, one the client does not trust, a server that ends the
 * handshake because it refused the client's certificate.
 */
export function temporalAccessProblem(error: unknown, overTls = true): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (/CertificateRequired/.test(message))
    return `Temporal requires a client certificate (set TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE): ${message}`;
  if (/UnknownIssuer|BadSignature|NotValidForName|Expired|InvalidCertificate/.test(message))
    return `Temporal's server certificate is not trusted for this address (check TEMPORAL_TLS_CA_FILE and TEMPORAL_TLS_SERVER_NAME): ${message}`;
  if (/BadCertificate|UnknownCA|close_notify|InvalidContentType|CorruptMessage/.test(message))
    return `Temporal refused the TLS connection (check ${TLS_SETTINGS}, and TEMPORAL_TLS for a TLS endpoint): ${message}`;
  // A TLS server that refuses the client certificate may just end the connection after the handshake,
  // which the core reports as a reset, a broken pipe (its first request written into the closed
  // socket), a closed connection or one that closed before it was ready (hyper cancelled the request;
  // also how a refused client without a certificate may look): the secured-paths test and CI saw each.
  if (overTls && /ConnectionReset|BrokenPipe|"connection closed"|"connection was not ready"/.test(message))
    return `Temporal closed the TLS connection at once: it most likely refused the client certificate (check ${TLS_SETTINGS}): ${message}`;
  return undefined;
}

/**
 * A worker connection from the Temporal settings.
 * @throws TemporalAccessError naming the settings when Temporal refuses the TLS settings
 */
export async function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  const connectOptions = options(config);
  try {
    return await NativeConnection.connect(connectOptions);
  } catch (error) {
    const problem = temporalAccessProblem(error, connectOptions.tls !== undefined);
    if (problem) throw new TemporalAccessError(problem, { cause: error });
    throw error;
  }
}
