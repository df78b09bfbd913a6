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

/** A worker connection from the Temporal settings. */
export function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect(options(config));
}
