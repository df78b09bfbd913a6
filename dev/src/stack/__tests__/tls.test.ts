import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { pollUntil } from '@sandbox-routing/testkit';
import { ensureTlsMaterial, type TlsMaterial } from '../tls';
import { startTlsTerminator } from '../tls-terminator';

const dir = path.join(mkdtempSync(path.join(tmpdir(), 'stack-tls-')), 'tls');
after(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

describe('the stack’s certificates', () => {
  let material: TlsMaterial;
  before(() => {
    const made = ensureTlsMaterial(dir);
    assert.equal(made.generated, true);
    material = made.material;
  });
  const cert = (file: string) => new X509Certificate(readFileSync(file));

  it('has a server certificate for 127.0.0.1 and localhost, signed by the CA', () => {
    const ca = cert(material.caFile);
    const server = cert(material.serverCertFile);
    assert.ok(ca.ca, 'the CA is a CA');
    assert.ok(server.verify(ca.publicKey), 'signed by the CA');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkHost('kafka.example.com'), undefined);
    assert.equal(server.ca, false);
  });

  it('has a client certificate from the CA, and one from another CA that it did not sign', () => {
    const ca = cert(material.caFile);
    assert.ok(cert(material.clientCertFile).verify(ca.publicKey));
    assert.ok(!cert(material.wrongClientCertFile).verify(ca.publicKey));
    assert.ok(cert(material.wrongClientCertFile).verify(cert(material.wrongCaFile).publicKey));
  });

  it('keeps keys readable by their owner only, and gives Kafka key and certificate in one file', () => {
    for (const file of [material.serverKeyFile, material.clientKeyFile, material.serverKeystoreFile])
      assert.equal(statSync(file).mode & 0o077, 0, file);
    const keystore = readFileSync(material.serverKeystoreFile, 'utf8');
    assert.match(keystore, /-----BEGIN PRIVATE KEY-----[\s\S]+-----BEGIN CERTIFICATE-----/);
  });

  it('makes nothing again while the set is whole, and a new set when a file is missing', () => {
    const before = readFileSync(material.caFile, 'utf8');
    assert.equal(ensureTlsMaterial(dir).generated, false);
    assert.equal(readFileSync(material.caFile, 'utf8'), before);
    rmSync(material.clientKeyFile);
    assert.equal(ensureTlsMaterial(dir).generated, true);
    assert.notEqual(readFileSync(material.caFile, 'utf8'), before, 'a new CA');
    assert.ok(statSync(material.clientKeyFile).isFile());
  });
});

describe('the TLS terminator', () => {
  let material: TlsMaterial;
  let upstream: net.Server;
  let terminator: tls.Server;
  const logged: string[] = [];
  before(async () => {
    material = ensureTlsMaterial(dir).material;
    // An echo server stands in for the plaintext gRPC server behind it.
    upstream = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    terminator = await startTlsTerminator({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: (upstream.address() as net.AddressInfo).port,
      ca: readFileSync(material.caFile, 'utf8'),
      cert: readFileSync(material.serverCertFile, 'utf8'),
      key: readFileSync(material.serverKeyFile, 'utf8'),
      log: (message) => logged.push(message),
    });
  });
  after(async () => {
    await new Promise((resolve) => terminator.close(resolve));
    await new Promise((resolve) => upstream.close(resolve));
  });

  /** Connects with a client certificate (or none); resolves with what came back for `message`, or the error. */
  const exchange = (files?: { cert: string; key: string }, message = 'ping') =>
    new Promise<{ alpn: string | false; echoed: string } | Error>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: (terminator.address() as net.AddressInfo).port,
        ca: readFileSync(material.caFile),
        ...(files ? { cert: readFileSync(files.cert), key: readFileSync(files.key) } : {}),
        ALPNProtocols: ['h2'],
      });
      let echoed = '';
      socket.on('secureConnect', () => socket.write(message));
      socket.on('data', (chunk) => {
        echoed += chunk.toString();
        if (echoed === message) {
          resolve({ alpn: socket.alpnProtocol ?? false, echoed });
          socket.end();
        }
      });
      socket.on('error', resolve);
      socket.on('close', () => resolve(new Error('closed before the echo')));
    });

  it('pipes a client with a certificate from the CA to the server behind it, over h2', async () => {
    const result = await exchange({ cert: material.clientCertFile, key: material.clientKeyFile });
    assert.deepEqual(result, { alpn: 'h2', echoed: 'ping' });
  });

  it('refuses a certificate from another CA, and logs why', async () => {
    const result = await exchange({ cert: material.wrongClientCertFile, key: material.wrongClientKeyFile });
    assert.ok(result instanceof Error, 'refused');
    await pollUntil(() => logged.some((line) => /client certificate refused: UNABLE_TO_VERIFY/.test(line)), {
      description: 'the refusal in the log',
      timeoutMs: 2000,
      intervalMs: 20,
    });
  });

  it('refuses a client without a certificate with a TLS alert', async () => {
    const result = await exchange();
    assert.ok(result instanceof Error, 'refused');
    assert.match(result.message, /certificate required/i);
  });
});
