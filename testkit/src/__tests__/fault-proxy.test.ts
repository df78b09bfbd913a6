import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FaultProxy } from '../fault-proxy';
import { pollUntil } from '../poll';

/** An echo server that also keeps what it received. */
async function echoServer(): Promise<{ server: Server; address: string; received: () => string }> {
  let received = '';
  const server = createServer((socket) => {
    socket.on('data', (chunk) => {
      received += chunk.toString();
      socket.write(chunk);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return { server, address: `127.0.0.1:${address.port}`, received: () => received };
}

/** A client connection through the proxy that collects what comes back. */
async function client(proxy: FaultProxy): Promise<{ socket: Socket; echoed: () => string }> {
  let echoed = '';
  const socket = createConnection({ host: '127.0.0.1', port: proxy.port });
  socket.on('data', (chunk) => {
    echoed += chunk.toString();
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, echoed: () => echoed };
}

/** Bytes that must not arrive are given this long to show up before the test says they did not. */
const QUIET_MS = 300;

describe('FaultProxy', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: FaultProxy;
  const sockets: Socket[] = [];

  before(async () => {
    echo = await echoServer();
    proxy = await FaultProxy.start(echo.address);
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await proxy.close();
    await new Promise((resolve) => echo.server.close(resolve));
  });

  it('forwards bytes both ways unchanged', async () => {
    const { socket, echoed } = await client(proxy);
    sockets.push(socket);
    const payload = 'x'.repeat(200_000);
    socket.write(payload);
    await pollUntil(() => echoed().length === payload.length, { description: 'the echo', timeoutMs: 5000 });
    assert.equal(echoed(), payload);
  });

  it('holds bytes while paused, then forwards them in order', async () => {
    const { socket, echoed } = await client(proxy);
    sockets.push(socket);
    const before = echo.received().length;
    proxy.pause();
    socket.write('one,');
    socket.write('two');
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    assert.equal(echo.received().length, before, 'nothing reached the server while paused');
    proxy.resume();
    await pollUntil(() => echoed() === 'one,two', { description: 'the held bytes, echoed', timeoutMs: 5000 });
  });

  it('delays bytes, and never lets a later chunk overtake an earlier one when the delay shrinks', async () => {
    const { socket, echoed } = await client(proxy);
    sockets.push(socket);
    proxy.delay(400);
    const sent = Date.now();
    socket.write('slow,');
    await pollUntil(() => proxy.delayedChunks > 0, {
      description: 'the first chunk to wait',
      timeoutMs: 5000,
    });
    proxy.delay(0);
    socket.write('fast');
    await pollUntil(() => echoed() === 'slow,fast', {
      description: 'both chunks, in order',
      timeoutMs: 5000,
    });
    assert.ok(Date.now() - sent >= 400, 'the first chunk waited its delay');
  });

  it('drops every open connection; new ones are served', async () => {
    const { socket } = await client(proxy);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    proxy.dropConnections();
    await closed;
    assert.equal(proxy.connections, 0);
    const again = await client(proxy);
    sockets.push(again.socket);
    again.socket.write('still here');
    await pollUntil(() => again.echoed() === 'still here', { description: 'an echo', timeoutMs: 5000 });
  });
});
