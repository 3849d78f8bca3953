import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoopbackPki {
  /** PEM of the private CA: pass as the certificate target's `caFile`. */
  caFile: string;
  /** Leaf certificate for IP 127.0.0.1, signed by the CA. */
  certFile: string;
  keyFile: string;
}

/**
 * Makes a throwaway CA and a leaf certificate with SAN IP:127.0.0.1 in `dir` using the `openssl` CLI, so
 * a certificate check with `caFile` finds the loopback servers trusted and correctly named.
 */
export async function makeLoopbackPki(dir: string, days = 90): Promise<LoopbackPki> {
  const file = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = async (args: string[]) => {
    try {
      await run('openssl', args, { timeout: 10_000 });
    } catch (error) {
      const err = error as { code?: string; stderr?: string; message?: string };
      if (err.code === 'ENOENT')
        throw new Error('the bench needs the openssl CLI on PATH to make certificates');
      throw new Error(`openssl ${args[0]} failed: ${err.stderr?.trim() || err.message}`);
    }
  };
  // biome-ignore format: openssl arguments read best as flag/value pairs
  await openssl([
    'req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', String(days),
    '-subj', '/CN=Reef bench CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await openssl([
    'req',
    ...ec,
    '-keyout',
    file('leaf.key'),
    '-out',
    file('leaf.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  await writeFile(
    file('leaf.ext'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  // biome-ignore format: openssl arguments read best as flag/value pairs
  await openssl([
    'x509', '-req', '-in', file('leaf.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
    '-set_serial', '0x01', '-days', String(days), '-extfile', file('leaf.ext'), '-out', file('leaf.pem'),
  ]);
  return { caFile: file('ca.pem'), certFile: file('leaf.pem'), keyFile: file('leaf.key') };
}
