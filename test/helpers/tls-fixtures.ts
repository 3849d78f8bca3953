import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';

/**
 * Real certificates and real TLS servers for tests, made with the `openssl` CLI (3.0+) and node:tls.
 * Everything is written under a directory the caller owns (see `makeTempDir`); remove it when done.
 */

const execFileAsync = promisify(execFile);

export interface CertificateAuthority {
  keyPath: string;
  certPath: string;
  /** PEM. */
  key: string;
  /** PEM. */
  cert: string;
  /** Subject (and issuer) DN fields, most significant first. */
  organization: string;
  commonName: string;
}

export interface IssuedCertificate {
  keyPath: string;
  certPath: string;
  /** PEM. */
  key: string;
  /** PEM. */
  cert: string;
  /** The validity written into the certificate: the requested dates truncated to whole seconds. */
  notBefore: Date;
  notAfter: Date;
}

export interface IssueCertOptions {
  ca: CertificateAuthority;
  dir: string;
  commonName: string;
  /** subjectAltName entries in OpenSSL syntax, e.g. `['DNS:localhost', 'IP:127.0.0.1']`. */
  altNames: readonly string[];
  notBefore: Date;
  notAfter: Date;
}

export interface TlsServerOptions {
  /** Default key and certificate (PEM), served when the client sends no SNI or an unknown name. */
  key: string;
  cert: string;
  /** Issuer certificates (PEM) sent after the leaf, for chain tests. */
  ca?: string;
  /** Per-SNI-name key and certificate (PEM). */
  sni?: Record<string, { key: string; cert: string }>;
}

export interface TlsTestServer {
  port: number;
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** The SNI name of every ClientHello that carried one, in order (IP hosts send none). */
  servernamesSeen: string[];
  /**
   * Handshakes the server has completed, with or without SNI. The server completes a handshake a
   * moment after the client does (TLS 1.3), so read it after `waitForHandshakes`.
   */
  readonly handshakes: number;
  /** Resolves once the server has completed `count` handshakes in all. */
  waitForHandshakes(count: number): Promise<void>;
  /** Destroys open connections and closes the server. */
  close(): Promise<void>;
}

/** A fresh directory under the OS temp dir; remove it with `rm(dir, { recursive: true, force: true })`. */
export function makeTempDir(label = 'tls'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `reef-test-${label}-`));
}

/** A self-signed EC P-256 CA, `O=Reef Tests, CN=<commonName>`, valid for ten years from now. */
export async function makeCa(dir: string, commonName = 'Reef Test CA'): Promise<CertificateAuthority> {
  assertConfigValue('commonName', commonName);
  const organization = 'Reef Tests';
  const caDir = await mkdtemp(path.join(dir, 'ca-'));
  const keyPath = path.join(caDir, 'ca.key');
  const certPath = path.join(caDir, 'ca.crt');
  const configPath = path.join(caDir, 'ca.cnf');
  await writeFile(
    configPath,
    [
      '[ req ]',
      'distinguished_name = dn',
      'prompt = no',
      'x509_extensions = v3_ca',
      '[ dn ]',
      `O = ${organization}`,
      `CN = ${commonName}`,
      '[ v3_ca ]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await generateKey(keyPath);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-config',
    configPath,
    '-key',
    keyPath,
    '-sha256',
    '-days',
    '3650',
    '-out',
    certPath,
  ]);
  return {
    keyPath,
    certPath,
    key: await readFile(keyPath, 'utf8'),
    cert: await readFile(certPath, 'utf8'),
    organization,
    commonName,
  };
}

/**
 * A server certificate signed by `ca` with arbitrary validity, past dates included. `openssl x509 -req`
 * cannot take explicit dates in OpenSSL 3.0, so this runs `openssl ca` against a throwaway database.
 */
export async function issueCert(options: IssueCertOptions): Promise<IssuedCertificate> {
  const { ca, commonName, altNames } = options;
  assertConfigValue('commonName', commonName);
  if (altNames.length === 0) throw new Error('issueCert: give at least one altName');
  for (const name of altNames) {
    if (!/^(DNS|IP|email|URI):[^\s,]+$/.test(name)) {
      throw new Error(`issueCert: altName "${name}" is not of the form DNS:x, IP:x, email:x or URI:x`);
    }
  }
  const notBefore = wholeSeconds(options.notBefore);
  const notAfter = wholeSeconds(options.notAfter);
  const work = await mkdtemp(path.join(options.dir, `${commonName.replace(/[^A-Za-z0-9.-]/g, '_')}-`));
  const keyPath = path.join(work, 'server.key');
  const csrPath = path.join(work, 'server.csr');
  const certPath = path.join(work, 'server.crt');
  const configPath = path.join(work, 'openssl.cnf');
  await mkdir(path.join(work, 'db'));
  await writeFile(path.join(work, 'db', 'index.txt'), '');
  await writeFile(path.join(work, 'db', 'serial'), `${randomSerial()}\n`);
  // Paths are relative to `work` (the cwd of every command) so the config never embeds the temp path.
  await writeFile(
    configPath,
    [
      '[ ca ]',
      'default_ca = test_ca',
      '[ test_ca ]',
      'database = db/index.txt',
      'new_certs_dir = db',
      'serial = db/serial',
      'default_md = sha256',
      'policy = test_policy',
      'unique_subject = no',
      'copy_extensions = none',
      'email_in_dn = no',
      'x509_extensions = server_ext',
      '[ test_policy ]',
      'commonName = supplied',
      '[ server_ext ]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${altNames.join(', ')}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '[ req ]',
      'distinguished_name = dn',
      'prompt = no',
      '[ dn ]',
      `CN = ${commonName}`,
      '',
    ].join('\n'),
  );
  await generateKey(keyPath);
  await openssl(['req', '-new', '-config', configPath, '-key', keyPath, '-out', csrPath], work);
  await openssl(
    [
      'ca',
      '-config',
      configPath,
      '-cert',
      ca.certPath,
      '-keyfile',
      ca.keyPath,
      '-in',
      csrPath,
      '-out',
      certPath,
      '-startdate',
      opensslTime(notBefore),
      '-enddate',
      opensslTime(notAfter),
      '-batch',
      '-notext',
    ],
    work,
  );
  return {
    keyPath,
    certPath,
    key: await readFile(keyPath, 'utf8'),
    cert: await readFile(certPath, 'utf8'),
    notBefore,
    notAfter,
  };
}

/**
 * A TLS server on 127.0.0.1 (random port) that answers any request with a tiny HTTP 200 and closes.
 * It serves the `sni` entry matching the client's SNI name, else the default key and certificate.
 */
export async function startTlsServer(options: TlsServerOptions): Promise<TlsTestServer> {
  const contexts = new Map(
    Object.entries(options.sni ?? {}).map(([name, pair]) => [name, tls.createSecureContext(pair)]),
  );
  const sockets = new Set<net.Socket>();
  const servernamesSeen: string[] = [];
  let handshakes = 0;
  const waiters = new Set<{ count: number; resolve: () => void }>();
  const server = tls.createServer({
    key: options.key,
    cert: options.ca ? `${options.cert.trimEnd()}\n${options.ca}` : options.cert,
    // Called at ClientHello, so the name is recorded before the client can finish its handshake.
    SNICallback: (servername, callback) => {
      servernamesSeen.push(servername);
      callback(null, contexts.get(servername));
    },
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => {});
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    handshakes++;
    for (const waiter of waiters) {
      if (handshakes < waiter.count) continue;
      waiters.delete(waiter);
      waiter.resolve();
    }
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.end(
        'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n',
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    servernamesSeen,
    get handshakes() {
      return handshakes;
    },
    waitForHandshakes(count) {
      if (handshakes >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ count, resolve }));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/** `date` plus `days` days (fractional allowed). */
export function daysFrom(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

async function generateKey(keyPath: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
}

async function openssl(args: string[], cwd?: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`);
  }
}

/** GeneralizedTime as `openssl ca -startdate/-enddate` take it: YYYYMMDDHHMMSSZ (UTC). */
function opensslTime(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** 16 random bytes as hex, high bit clear (a positive INTEGER) and non-zero leading nibble. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10;
  return bytes.toString('hex');
}

/** Values go into an OpenSSL config file, where `$`, `\`, `#`, `/` and newlines mean something. */
function assertConfigValue(field: string, value: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._*-]*$/.test(value)) {
    throw new Error(`${field} "${value}" may only use letters, digits, space, ".", "_", "*" and "-"`);
  }
}
