#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Command } from 'commander';

/**
 * A TLS terminator that requires a client certificate, in front of a plaintext gRPC server: the
 * Temporal dev server has no TLS flags, and the tests must meet mTLS as Temporal Cloud asks for it.
 * gRPC clients negotiate HTTP/2 with ALPN, so it offers `h2`; after the handshake it pipes bytes
 * both ways (the dev server speaks HTTP/2 without TLS, prior knowledge).
 */
export interface TlsTerminatorOptions {
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
  /** PEM: the CA client certificates must chain to, the server certificate and its key. */
  ca: string;
  cert: string;
  key: string;
  log?: (message: string) => void;
}

export async function startTlsTerminator(options: TlsTerminatorOptions): Promise<tls.Server> {
  const log = options.log ?? (() => undefined);
  const server = tls.createServer(
    {
      ALPNProtocols: ['h2'],
      requestCert: true,
      rejectUnauthorized: true,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
    },
    (client) => {
      const upstream = net.connect({ host: options.targetHost, port: options.targetPort });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream
        .on('error', (error: NodeJS.ErrnoException) => {
          log(`upstream ${options.targetHost}:${options.targetPort}: ${error.code ?? error.message}`);
          close();
        })
        .on('close', close);
      client.pipe(upstream).pipe(client);
    },
  );
  // A refused handshake (no certificate, one from another CA, plaintext) is what the tests provoke:
  // name it in the log with OpenSSL's reason, never any key material. A certificate that does not
  // verify gets no TLS alert from Node (it closes the socket after the handshake), so its reason
  // is only here, in `authorizationError`.
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    const from = socket.remoteAddress ? ` from ${socket.remoteAddress}:${socket.remotePort}` : '';
    const reason = socket.authorizationError
      ? `client certificate refused: ${socket.authorizationError}`
      : `${error.code ?? ''} ${error.message}`.trim();
    log(`refused a client${from}: ${reason}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort, options.listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

function hostPort(value: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match?.[1] || port < 1 || port > 65535) throw new Error(`expected host:port, got "${value}"`);
  return { host: match[1], port };
}

async function main(): Promise<void> {
  const options = new Command()
    .name('tls-terminator')
    .description('TLS (client certificate required, ALPN h2) in front of a plaintext gRPC server')
    .requiredOption('--listen <host:port>', 'address to accept TLS on')
    .requiredOption('--target <host:port>', 'plaintext server to pipe to')
    .requiredOption('--ca <file>', 'PEM CA that client certificates must chain to')
    .requiredOption('--cert <file>', 'PEM server certificate')
    .requiredOption('--key <file>', 'PEM server key')
    .parse()
    .opts<{ listen: string; target: string; ca: string; cert: string; key: string }>();
  const listen = hostPort(options.listen);
  const target = hostPort(options.target);
  const log = (message: string) => console.log(`${new Date().toISOString()} [temporal-tls] ${message}`);
  await startTlsTerminator({
    listenHost: listen.host,
    listenPort: listen.port,
    targetHost: target.host,
    targetPort: target.port,
    ca: readFileSync(options.ca, 'utf8'),
    cert: readFileSync(options.cert, 'utf8'),
    key: readFileSync(options.key, 'utf8'),
    log,
  });
  log(
    `listening on ${options.listen} (client certificates from ${options.ca} required), piping to ${options.target}`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`[temporal-tls] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
