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

/** A worker connection from the Temporal settings. */
export function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect(options(config));
}
