import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from '../config';

function options(config: TemporalConfig) {
  return {
    address: config.address,
    tls: config.tls || undefined,
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
  };
}

/** A client connection (for starting workflows) from the Temporal settings. */
export function connectClient(config: TemporalConfig): Promise<Connection> {
  return Connection.connect(options(config));
}

/**
 * A client connection that connects on first use: a service can start (and back off per request)
 * while Temporal is away, instead of failing at start-up.
 */
export function lazyClientConnection(config: TemporalConfig): Connection {
  return Connection.lazy(options(config));
}

/** A worker connection from the Temporal settings. */
export function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect(options(config));
}
