import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';

export interface PeerCertificateResult {
  certificate: X509Certificate;
  /** Legacy object form, as `tls.checkServerIdentity` wants it. */
  legacy: PeerCertificate;
  /** Whether the chain verified against the trusted CAs. */
  authorized: boolean;
  authorizationError: string | undefined;
  protocol: string | null;
}

export interface PeerCertificateOptions {
  host: string;
  port: number;
  /** SNI name; never an IP address (RFC 6066). */
  servername: string | undefined;
  timeoutMs: number;
  /** Extra trusted CA PEM file, added to Node's root store. */
  caFile: string | undefined;
}

/**
 * Connects, completes the handshake and returns the served leaf certificate, whether or not its chain is
 * trusted: the certificate check reports trust as a finding rather than failing to look.
 */
export function fetchPeerCertificate(options: PeerCertificateOptions): Promise<PeerCertificateResult> {
  const secureContext = options.caFile ? contextTrusting(options.caFile) : undefined;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: options.host,
      port: options.port,
      servername: options.servername && isIP(options.servername) === 0 ? options.servername : undefined,
      rejectUnauthorized: false,
      // `authorized` is about the chain only; the certificate check compares names itself. Node's
      // default would also fail it for a name mismatch (ERR_TLS_CERT_ALTNAME_INVALID).
      checkServerIdentity: () => undefined,
      secureContext,
      ALPNProtocols: ['http/1.1'],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        Object.assign(new Error(`TLS handshake not finished within ${options.timeoutMs} ms`), {
          code: 'ETIMEDOUT',
        }),
      );
    }, options.timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      // Not getPeerX509Certificate(): on the client side Node 20 takes the leaf out of the peer chain,
      // so a later getPeerCertificate() returns {} and checkServerIdentity fails for every name.
      const legacy = socket.getPeerCertificate();
      const certificate = legacy?.raw ? new X509Certificate(legacy.raw) : undefined;
      const result = {
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
        protocol: socket.getProtocol(),
      };
      socket.end();
      socket.destroy();
      if (!certificate) reject(new Error('the server sent no certificate'));
      else resolve({ certificate, legacy, ...result });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

/** Thrown when the configured CA bundle cannot be read: a check error, not an unreachable target. */
export class CaFileError extends Error {
  override readonly name = 'CaFileError';
}

const contexts = new Map<string, { mtimeMs: number; context: tls.SecureContext }>();

/**
 * A secure context trusting Node's roots plus the CAs in `file`, built once per file version:
 * building one parses ~150 root certificates (tens of ms of blocking CPU), far too much per probe.
 */
function contextTrusting(file: string): tls.SecureContext {
  try {
    const { mtimeMs } = statSync(file);
    const cached = contexts.get(file);
    if (cached && cached.mtimeMs === mtimeMs) return cached.context;
    const context = tls.createSecureContext({ ca: [...tls.rootCertificates, readFileSync(file, 'utf8')] });
    contexts.set(file, { mtimeMs, context });
    return context;
  } catch (error) {
    throw new CaFileError(`cannot read caFile ${file}: ${(error as Error).message}`);
  }
}
