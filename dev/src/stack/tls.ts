import { spawnSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { paths } from './paths';

/**
 * Certificates of the local stack's secured paths (Kafka's SASL_SSL listener, the Temporal TLS
 * terminator), generated with openssl into `.stack/tls/`. Keys are PKCS#8 PEM (what Kafka's PEM key
 * store, Node and Temporal's Rust core all read), readable by the owner only, and never printed.
 */
export interface TlsMaterial {
  dir: string;
  /** The local CA: signs the server and the good client certificate. */
  caFile: string;
  /** Server certificate for 127.0.0.1 and localhost (SAN), and its key. */
  serverCertFile: string;
  serverKeyFile: string;
  /** Key and certificate chain in one file, as Kafka's PEM key store (`ssl.keystore.location`) reads it. */
  serverKeystoreFile: string;
  /** A client certificate the CA signed (Temporal mTLS, optionally Kafka mTLS). */
  clientCertFile: string;
  clientKeyFile: string;
  /** Another CA and a client certificate it signed: valid certificates the stack must refuse. */
  wrongCaFile: string;
  wrongClientCertFile: string;
  wrongClientKeyFile: string;
}

export function tlsMaterial(dir: string = paths.tls): TlsMaterial {
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    caFile: file('ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    serverKeystoreFile: file('server-keystore.pem'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    wrongCaFile: file('wrong-ca.crt'),
    wrongClientCertFile: file('wrong-client.crt'),
    wrongClientKeyFile: file('wrong-client.key'),
  };
}

/** Certificates last ten years; generated again when one is missing or ends within a day. */
const VALIDITY_DAYS = 3650;
const MIN_REMAINING_MS = 24 * 3600 * 1000;

const CA_EXTENSIONS = [
  'basicConstraints=critical,CA:TRUE',
  'keyUsage=critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier=hash',
];
// rustls (Temporal's Rust core) checks SAN only, never CN, and checks the extended key usage.
const SERVER_EXTENSIONS = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=serverAuth',
  'subjectAltName=IP:127.0.0.1,DNS:localhost',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
];
const CLIENT_EXTENSIONS = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=clientAuth',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
];

function openssl(args: string[], cwd: string): void {
  // Output is captured, not shown: openssl writes keys only to the files named by -out.
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.error) throw new Error(`openssl could not run (${result.error.message}); install openssl`);
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim()}`);
}

/** Writes a P-256 key and a certificate for it, signed by `issuer` (self-signed when absent). */
function issue(
  dir: string,
  name: string,
  subject: string,
  extensions: string[],
  issuer?: { cert: string; key: string },
): void {
  const key = `${name}.key`;
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], dir);
  chmodSync(path.join(dir, key), 0o600);
  // A minimal request config, so the machine's openssl.cnf adds nothing.
  writeFileSync(path.join(dir, 'req.cnf'), '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=unused\n');
  writeFileSync(path.join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  openssl(['req', '-new', '-config', 'req.cnf', '-key', key, '-subj', subject, '-out', `${name}.csr`], dir);
  const signer = issuer ? ['-CA', issuer.cert, '-CAkey', issuer.key] : ['-key', key];
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      ...signer,
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      String(VALIDITY_DAYS),
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
  rmSync(path.join(dir, `${name}.csr`));
  rmSync(path.join(dir, `${name}.ext`));
}

function usable(material: TlsMaterial): boolean {
  const certs = [
    material.caFile,
    material.serverCertFile,
    material.clientCertFile,
    material.wrongClientCertFile,
  ];
  const keys = [material.serverKeyFile, material.serverKeystoreFile, material.clientKeyFile];
  if (![...certs, ...keys, material.wrongCaFile, material.wrongClientKeyFile].every((f) => existsSync(f)))
    return false;
  try {
    return certs.every(
      (f) => Date.parse(new X509Certificate(readFileSync(f)).validTo) - Date.now() > MIN_REMAINING_MS,
    );
  } catch {
    return false; // unreadable: make them again
  }
}

/**
 * Makes the stack's CA and certificates unless usable ones are there. Generated in a scratch
 * directory and renamed into place, so a reader never sees half of a set.
 * @returns the files, and whether they were made now (servers holding the old ones must restart)
 */
export function ensureTlsMaterial(dir: string = paths.tls): { material: TlsMaterial; generated: boolean } {
  const material = tlsMaterial(dir);
  if (usable(material)) return { material, generated: false };
  console.log(`[stack] generating a local CA and certificates with openssl into ${dir}`);
  const scratch = `${dir}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true, mode: 0o700 });
  try {
    issue(scratch, 'ca', '/CN=sandbox-routing local CA', CA_EXTENSIONS);
    const ca = { cert: 'ca.crt', key: 'ca.key' };
    issue(scratch, 'server', '/CN=localhost', SERVER_EXTENSIONS, ca);
    issue(scratch, 'client', '/CN=sandbox-routing-client', CLIENT_EXTENSIONS, ca);
    issue(scratch, 'wrong-ca', '/CN=sandbox-routing wrong CA', CA_EXTENSIONS);
    const wrongCa = { cert: 'wrong-ca.crt', key: 'wrong-ca.key' };
    issue(scratch, 'wrong-client', '/CN=sandbox-routing-client', CLIENT_EXTENSIONS, wrongCa);
    const keystore = path.join(scratch, 'server-keystore.pem');
    writeFileSync(
      keystore,
      readFileSync(path.join(scratch, 'server.key'), 'utf8') +
        readFileSync(path.join(scratch, 'server.crt'), 'utf8'),
      { mode: 0o600 },
    );
    rmSync(path.join(scratch, 'req.cnf'));
    rmSync(dir, { recursive: true, force: true });
    renameSync(scratch, dir);
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  return { material, generated: true };
}
