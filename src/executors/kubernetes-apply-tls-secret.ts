import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { KubeApiError } from '../adapters/kube-errors.js';
import { errorMessage } from '../errors.js';
import type { StepContext, StepExecutor, StepResult } from './executor.js';
import { excerpt } from './host-files.js';
import { absolutePath, configName, kubeName, kubeNamespace } from './validate.js';

const TLS = 'kubernetes.io/tls';
const MAX_PEM_BYTES = 1024 * 1024;

const schema = z.strictObject({
  cluster: configName,
  namespace: kubeNamespace,
  secret: kubeName,
  /** The certificate (chain) PEM, e.g. certbot's fullchain.pem. */
  certFile: absolutePath,
  keyFile: absolutePath,
  /** The host holding the files (over SSH, or `local: true`); absent: the machine Reef runs on. */
  host: configName.optional(),
});

export type ApplyTlsSecretParams = z.output<typeof schema>;

/** A refusal decided while looking at the Secret: a failed step with this reason, nothing written. */
class Refusal extends Error {}

/**
 * `kubernetes.applyTlsSecret`: puts a renewed certificate and its key into the existing
 * `kubernetes.io/tls` Secret an ingress serves from. Reads the PEM files from a host, checks that they
 * are a certificate and the private key that belongs to it, still valid, then replaces `tls.crt` and
 * `tls.key` (other keys, labels and annotations kept) with a GET then a PUT carrying the resourceVersion
 * read, so a concurrent change fails with 409 rather than being overwritten. Never creates or deletes a
 * Secret; refuses one of another type. Only the certificate's subject, expiry and fingerprint are ever
 * reported: key material is never logged.
 */
export const kubernetesApplyTlsSecretExecutor: StepExecutor<ApplyTlsSecretParams> = {
  type: 'kubernetes.applyTlsSecret',
  mutates: true,
  schema,
  describe(params) {
    return (
      `GET then PUT /api/v1/namespaces/${params.namespace}/secrets/${params.secret} (${TLS}, same resourceVersion): ` +
      `tls.crt ← ${where(params, params.certFile)}, tls.key ← ${where(params, params.keyFile)} on cluster ${params.cluster}`
    );
  },
  async execute(params, context) {
    const target = `${params.namespace}/${params.secret}`;
    let cert: X509Certificate;
    let pems: { cert: string; key: string };
    try {
      pems = {
        cert: await readPem(params, params.certFile, context),
        key: await readPem(params, params.keyFile, context),
      };
      cert = certificateOf(params, pems, context.clock.now());
    } catch (error) {
      return { ok: false, summary: `refused: ${errorMessage(error)}; Secret ${target} left as it was` };
    }
    const data = {
      'tls.crt': Buffer.from(pems.cert).toString('base64'),
      'tls.key': Buffer.from(pems.key).toString('base64'),
    };
    let previous: X509Certificate | undefined;
    let unchanged = false;
    try {
      const written = await context.kube.updateSecretData(
        params.cluster,
        params.namespace,
        params.secret,
        (current) => {
          if (current.type !== TLS) {
            throw new Refusal(
              `Secret ${target} is of type ${current.type}, not ${TLS}; Reef only replaces TLS Secrets`,
            );
          }
          previous = parseOld(current.data['tls.crt']);
          // Already in place: no PUT, so the ingress controller is not made to reload for nothing.
          unchanged =
            current.data['tls.crt'] === data['tls.crt'] && current.data['tls.key'] === data['tls.key'];
          if (unchanged) return undefined;
          if (current.immutable) throw new Refusal(`Secret ${target} is immutable; replace it by hand`);
          return { ...current.data, ...data };
        },
      );
      const what = unchanged
        ? `Secret ${target} already holds this certificate and key`
        : `replaced tls.crt and tls.key of Secret ${target}`;
      return done(params, cert, previous, what, written.metadata.resourceVersion);
    } catch (error) {
      if (error instanceof Refusal) return { ok: false, summary: `refused: ${error.message}` };
      if (error instanceof KubeApiError && error.failure === 'not-found') {
        return {
          ok: false,
          summary: `Secret ${target} does not exist on cluster ${params.cluster}; this step never creates one (create it as type ${TLS} first)`,
        };
      }
      if (error instanceof KubeApiError && error.failure === 'conflict') {
        return {
          ok: false,
          summary: `Secret ${target} changed while Reef was replacing it (409 Conflict); nothing was written`,
          output: error.message,
        };
      }
      throw error;
    }
  },
};

function where(params: ApplyTlsSecretParams, file: string): string {
  return params.host === undefined ? `${file} (on Reef's machine)` : `${params.host}:${file}`;
}

/** The file's text, over the host port (`cat -- file`) or from this machine. Never echoed anywhere. */
async function readPem(params: ApplyTlsSecretParams, file: string, context: StepContext): Promise<string> {
  if (params.host === undefined) {
    try {
      if ((await stat(file)).size > MAX_PEM_BYTES) throw new Error('larger than 1 MiB');
      return await readFile(file, 'utf8');
    } catch (error) {
      throw new Error(
        `cannot read ${where(params, file)}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`,
      );
    }
  }
  const result = await context.hosts.exec(params.host, ['cat', '--', file], { maxBytes: MAX_PEM_BYTES + 1 });
  if (result.code !== 0)
    throw new Error(`cannot read ${where(params, file)}: ${excerpt(result.stderr, 300)}`);
  if (result.stdout.length > MAX_PEM_BYTES) throw new Error(`${where(params, file)} is larger than 1 MiB`);
  return result.stdout;
}

/** The leaf certificate, once the files are shown to be a valid certificate and its own private key. */
function certificateOf(
  params: ApplyTlsSecretParams,
  pems: { cert: string; key: string },
  now: Date,
): X509Certificate {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(pems.cert);
  } catch {
    throw new Error(`${where(params, params.certFile)} holds no PEM certificate`);
  }
  try {
    key = createPrivateKey(pems.key);
  } catch {
    // The parser's message could quote the input: say only what is wrong.
    throw new Error(`${where(params, params.keyFile)} holds no PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new Error(
      `the key in ${where(params, params.keyFile)} does not belong to the certificate in ${params.certFile}`,
    );
  }
  if (new Date(cert.validTo) <= now)
    throw new Error(`the certificate in ${params.certFile} expired on ${iso(cert.validTo)}`);
  return cert;
}

function parseOld(base64: string | undefined): X509Certificate | undefined {
  try {
    return base64 ? new X509Certificate(Buffer.from(base64, 'base64')) : undefined;
  } catch {
    return undefined;
  }
}

function done(
  params: ApplyTlsSecretParams,
  cert: X509Certificate,
  previous: X509Certificate | undefined,
  what: string,
  resourceVersion?: string,
): StepResult {
  const subject = cert.subject.replace(/\n/g, ', ');
  const notAfter = iso(cert.validTo);
  return {
    ok: true,
    summary: `${what} on cluster ${params.cluster}: ${subject}, valid until ${notAfter}${previous ? ` (was until ${iso(previous.validTo)})` : ''}`,
    output: [
      `subject: ${subject}`,
      `issuer: ${cert.issuer.replace(/\n/g, ', ')}`,
      `notAfter: ${notAfter}`,
      `sha256: ${cert.fingerprint256}`,
    ].join('\n'),
    data: {
      subject,
      notAfter,
      fingerprint256: cert.fingerprint256,
      ...(previous
        ? { previousNotAfter: iso(previous.validTo), previousFingerprint256: previous.fingerprint256 }
        : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
    },
  };
}

function iso(text: string): string {
  return new Date(text).toISOString();
}
