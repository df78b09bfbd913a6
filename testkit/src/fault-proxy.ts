import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** One proxied connection: the client's socket and the one to the target. */
interface Link {
  client: Socket;
  upstream: Socket;
}

/**
 * A TCP proxy on 127.0.0.1 between a client and a server, for fault tests: it forwards bytes both ways
 * unchanged until told to misbehave.
 *
 * - `pause()`: stops forwarding in both directions (and holds new connections); nothing is lost, the
 *   bytes wait in the sockets' buffers. The client sees a server that stopped answering: its calls
 *   run into their deadlines. `resume()` forwards what waited, in order.
 * - `delay(ms)`: every chunk is forwarded `ms` later (order kept): a slow network or server.
 * - `dropConnections()`: destroys every open connection (a reset); new ones are accepted as usual.
 *
 * Its own listening port only; stop it with `close()`.
 */
export class FaultProxy {
  private readonly links = new Set<Link>();
  private paused = false;
  private delayMs = 0;
  private delayed = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.link(client));
  }

  /** Starts a proxy to `target` (`host:port`) on a free port of 127.0.0.1. */
  static async start(target: string): Promise<FaultProxy> {
    const separator = target.lastIndexOf(':');
    const host = target.slice(0, separator);
    const port = Number(target.slice(separator + 1));
    if (!host || !Number.isInteger(port) || port <= 0) throw new Error(`not a host:port: ${target}`);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no port assigned');
    return new FaultProxy(server, address.port, { host, port });
  }

  /** What clients connect to instead of the target. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Chunks waiting out their delay right now (both directions). */
  get delayedChunks(): number {
    return this.delayed;
  }

  /** Connections open right now. */
  get connections(): number {
    return this.links.size;
  }

  private link(client: Socket): void {
    const upstream = createConnection(this.target);
    const link = { client, upstream };
    this.links.add(link);
    const close = () => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    this.pipe(client, upstream);
    this.pipe(upstream, client);
    if (this.paused) this.hold(link);
  }

  /**
   * Forwards `from`'s bytes to `to`, each chunk after the delay in force when it arrived, in order
   * (a chunk never overtakes an earlier one, also when the delay shrinks); backpressure pauses `from`.
   */
  private pipe(from: Socket, to: Socket): void {
    const queue: { chunk: Buffer; releaseAt: number }[] = [];
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const release = () => {
      timer = undefined;
      while (queue.length > 0 && (queue[0]?.releaseAt ?? 0) <= Date.now()) {
        const next = queue.shift();
        this.delayed--;
        if (next && !to.destroyed) to.write(next.chunk);
      }
      const head = queue[0];
      if (head) timer = setTimeout(release, head.releaseAt - Date.now());
      else if (ended) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      if (this.delayMs === 0 && queue.length === 0) {
        if (!to.write(chunk)) from.pause();
        return;
      }
      queue.push({ chunk, releaseAt: Date.now() + this.delayMs });
      this.delayed++;
      timer ??= setTimeout(release, this.delayMs);
    });
    from.on('end', () => {
      ended = true;
      if (queue.length === 0) to.end();
    });
    from.on('close', () => {
      clearTimeout(timer);
      this.delayed -= queue.splice(0).length;
    });
    to.on('drain', () => {
      if (!this.paused) from.resume();
    });
  }

  private hold(link: Link): void {
    link.client.pause();
    link.upstream.pause();
  }

  /** Stops forwarding in both directions until `resume()`; bytes wait, connections stay open. */
  pause(): void {
    this.paused = true;
    for (const link of this.links) this.hold(link);
  }

  /** Forwards again, what waited first. */
  resume(): void {
    this.paused = false;
    for (const { client, upstream } of this.links) {
      client.resume();
      upstream.resume();
    }
  }

  /** Forwards every chunk `ms` later from now on (0: at once again). */
  delay(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  /** Destroys every open connection: both ends see a reset. */
  dropConnections(): void {
    for (const { client, upstream } of [...this.links]) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.links.clear();
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
