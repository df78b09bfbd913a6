/**
 * Connects a kafkajs client on first use, once; a failed attempt is forgotten, so the next call tries
 * again (a broker that was away at start must not leave the client unusable).
 */
export class ConnectOnce {
  private connecting: Promise<void> | undefined;

  constructor(private readonly client: { connect(): Promise<void>; disconnect(): Promise<void> }) {}

  connect(): Promise<void> {
    this.connecting ??= this.client.connect().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  /** Disconnects if a connection was ever attempted. */
  async close(): Promise<void> {
    if (this.connecting) await this.client.disconnect();
  }
}
