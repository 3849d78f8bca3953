import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import type { SshHostConfig } from '../config/schema.js';
import { ReefError } from '../errors.js';

/** One usable line of a known_hosts file (`@cert-authority` lines are skipped: no certificate support). */
export interface KnownHostEntry {
  revoked: boolean;
  /** The host field as written: comma-separated patterns, or one hashed `|1|salt|hash` name. */
  hosts: string;
  keyType: string;
  key: Buffer;
  line: number;
}

/** What the server must present, decided before connecting. */
export type HostKeyPin =
  | { kind: 'fingerprint'; fingerprint: string }
  | { kind: 'known-hosts'; path: string; entries: KnownHostEntry[] }
  | { kind: 'none'; verify: boolean };

/** `SHA256:<base64, unpadded>` of a public key blob, exactly as `ssh-keygen -lf` prints it. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name at the start of an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, …). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return length > 0 && length < 64 && key.length >= 4 + length
    ? key.subarray(4, 4 + length).toString('ascii')
    : 'unknown';
}

/** How OpenSSH names a host in known_hosts: bare on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) return;
    let revoked = false;
    if (fields[0].startsWith('@')) {
      if (fields[0] === '@cert-authority') return;
      revoked = fields[0] === '@revoked';
      fields.shift();
    }
    const [hosts, keyType, base64] = fields;
    if (!hosts || !keyType || !base64) return;
    entries.push({ revoked, hosts, keyType, key: Buffer.from(base64, 'base64'), line: index + 1 });
  });
  return entries;
}

/**
 * Whether a known_hosts host field names `name` (see knownHostsName): a hashed name (HMAC-SHA1 with the
 * entry's salt), or a pattern list with `*`/`?` wildcards where any matching `!pattern` vetoes.
 */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  let matched = false;
  for (const pattern of field.toLowerCase().split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}

/** Reads the pin a host is configured with; an explicit pin wins over `verifyHostKey: false`. */
export async function loadHostKeyPin(name: string, host: SshHostConfig): Promise<HostKeyPin> {
  if (host.hostKeyFingerprint) return { kind: 'fingerprint', fingerprint: host.hostKeyFingerprint };
  if (host.knownHostsPath) {
    const path = expandHome(host.knownHostsPath);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ReefError(
        'reef_ssh_host_key',
        `cannot read known_hosts ${path} for ${name}: ${(error as Error).message}`,
        { hint: `Fix hosts.${name}.knownHostsPath, or pin hostKeyFingerprint instead.`, cause: error },
      );
    }
    const lookup = knownHostsName(host.host, host.port);
    const entries = parseKnownHosts(text).filter((e) => hostFieldMatches(e.hosts, lookup));
    return { kind: 'known-hosts', path, entries };
  }
  return { kind: 'none', verify: host.verifyHostKey };
}

/**
 * Host key algorithms to offer: those known_hosts has keys for, so a server with several host keys shows
 * the pinned one rather than whichever ssh2 prefers (what OpenSSH's client does too). Undefined: defaults.
 */
export function offeredAlgorithms(pin: HostKeyPin): string[] | undefined {
  if (pin.kind !== 'known-hosts') return undefined;
  const types = new Set(pin.entries.filter((e) => !e.revoked).map((e) => e.keyType));
  const offered = [...types].flatMap((t) =>
    t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t],
  );
  return offered.length > 0 ? offered : undefined;
}

/** Why the presented key is refused, or undefined when it is accepted. */
export function hostKeyProblem(
  name: string,
  host: SshHostConfig,
  pin: HostKeyPin,
  key: Buffer,
): ReefError | undefined {
  const where = `${name} (${host.host}:${host.port})`;
  const seen = fingerprintOf(key);
  const type = keyTypeOf(key);
  const verifyOnHost = `check it on the host with \`ssh-keygen -lf /etc/ssh/ssh_host_${keyFileSuffix(type)}_key.pub\``;
  const refuse = (message: string, hint: string) => new ReefError('reef_ssh_host_key', message, { hint });
  switch (pin.kind) {
    case 'fingerprint':
      if (seen === pin.fingerprint) return undefined;
      return refuse(
        `host key mismatch for ${where}: expected ${pin.fingerprint}, got ${seen} (${type}); refusing to connect`,
        `If the host key was changed on purpose, ${verifyOnHost} and set hosts.${name}.hostKeyFingerprint: ${seen}. Otherwise the connection may be intercepted.`,
      );
    case 'known-hosts': {
      const same = pin.entries.filter((e) => e.key.equals(key));
      const revoked = same.find((e) => e.revoked);
      if (revoked) {
        return refuse(
          `host key of ${where} (${seen}) is marked @revoked in ${pin.path} line ${revoked.line}; refusing to connect`,
          'The host must get a new host key; then pin it.',
        );
      }
      if (same.length > 0) return undefined;
      const line = `${knownHostsName(host.host, host.port)} ${type} ${key.toString('base64')}`;
      const expected = pin.entries.filter((e) => !e.revoked);
      if (expected.length === 0) {
        return refuse(
          `host key of ${where} is not in ${pin.path}: the server presented ${type} ${seen}; refusing to connect (after you ${verifyOnHost}, add this line to that file: ${line})`,
          `Append to ${pin.path}: ${line}`,
        );
      }
      const list = expected
        .map((e) => `${fingerprintOf(e.key)} (${e.keyType}, ${pin.path} line ${e.line})`)
        .join(' or ');
      return refuse(
        `host key mismatch for ${where}: expected ${list}, got ${seen} (${type}); refusing to connect`,
        `If the host key was changed on purpose, ${verifyOnHost}, then replace the line in ${pin.path} with: ${line}. Otherwise the connection may be intercepted.`,
      );
    }
    case 'none':
      if (!pin.verify) return undefined;
      return refuse(
        `host key of ${where} is not pinned: the server presented ${type} ${seen}; refusing to connect (after you ${verifyOnHost}, add \`hostKeyFingerprint: ${seen}\` to hosts.${name} in reef.yaml, or set knownHostsPath)`,
        `Add to hosts.${name}: hostKeyFingerprint: ${seen}`,
      );
  }
}

/** `~` and `~/…` are the current user's home, as in ssh_config. */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  return path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
}

/** The file name part sshd uses for a host key type (`/etc/ssh/ssh_host_<suffix>_key`). */
function keyFileSuffix(type: string): string {
  if (type.startsWith('ecdsa-')) return 'ecdsa';
  if (type === 'ssh-dss') return 'dsa';
  return type.replace(/^ssh-/, '');
}
