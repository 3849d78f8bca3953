import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  expandHome,
  fingerprintOf,
  knownHostsName,
  loadHostKeyPin,
  parseKnownHosts,
} from '../adapters/ssh-host-key.js';
import type { HostConfig, SshHostConfig } from '../config/schema.js';
import { ReefError } from '../errors.js';
import { runTool } from './ansible-terraform-local.js';

/**
 * The OpenSSH client setup `ansible-playbook` uses for one Reef host: an ssh_config written for the run
 * (passed with `-F`, so ~/.ssh/config and /etc/ssh/ssh_config play no part), one `Host` block per hop of
 * the bastion chain, each next hop reached with `ProxyCommand ssh -F <that config> -W …` (so the jump
 * connections get the same settings, which `-o` options would not reach).
 *
 * Host keys follow the host's pin in reef.yaml, never trust-on-first-use:
 * - `hostKeyFingerprint`: a known_hosts file for the run is filled by probing each hop (outermost first)
 *   with `StrictHostKeyChecking=accept-new` into a scratch file and no authentication at all
 *   (`PreferredAuthentications=none`: nothing is sent or run on an impostor); the key is kept only if its
 *   fingerprint equals the pin. Each other key type is tried when the first one presented differs.
 * - `knownHostsPath`: that file, as is (hashed entries included).
 * - `verifyHostKey: false`: no checking, with a warning in the step log.
 * Every hop has `ControlMaster no` and `ControlPath none`: no ssh master outlives the run, and
 * `GlobalKnownHostsFile /dev/null`: only the pin counts.
 */

export interface AnsibleSsh {
  /** The name ansible_host uses (a `Host` block of the config). */
  alias: string;
  configPath: string;
}

interface Hop {
  name: string;
  host: SshHostConfig;
  alias: string;
}

const MAX_HOPS = 16;
const PROBE_KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
];

export async function prepareAnsibleSsh(options: {
  name: string;
  hostConfig: (name: string) => HostConfig | undefined;
  /** A private temp dir for this run. */
  dir: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  log: (line: string) => void;
}): Promise<AnsibleSsh> {
  const hops = chain(options.name, options.hostConfig);
  const configPath = path.join(options.dir, 'ssh_config');
  const knownHosts = path.join(options.dir, 'known_hosts');
  await writeFile(knownHosts, '', { mode: 0o600 });
  const blocks: string[] = [];
  for (const [i, hop] of hops.entries()) {
    blocks.push(
      await hostBlock(hop, hops[i - 1], { configPath, knownHosts, env: options.env, log: options.log }),
    );
  }
  await writeFile(configPath, `${blocks.join('\n')}\n`, { mode: 0o600 });
  for (const hop of hops) {
    const fingerprint = hop.host.hostKeyFingerprint;
    if (fingerprint) await pinByProbe(hop, fingerprint, { ...options, configPath, knownHosts });
  }
  return { alias: hops.at(-1)!.alias, configPath };
}

/** The hops from the outermost bastion to the host itself. */
function chain(name: string, lookup: (name: string) => HostConfig | undefined): Hop[] {
  const hops: Hop[] = [];
  for (let next: string | undefined = name; next !== undefined; ) {
    const host = lookup(next);
    if (!host) throw new Error(`ansible.playbook: unknown host "${next}"; add it under hosts: in reef.yaml`);
    if ('local' in host)
      throw new Error(`ansible.playbook: "${next}" is a local host and cannot be a bastion`);
    if (hops.length >= MAX_HOPS)
      throw new Error(`ansible.playbook: the bastion chain of ${name} is too long`);
    hops.unshift({ name: next, host, alias: `reef-hop-${next}` });
    next = host.via;
  }
  return hops;
}

async function hostBlock(
  hop: Hop,
  via: Hop | undefined,
  o: { configPath: string; knownHosts: string; env: NodeJS.ProcessEnv; log: (line: string) => void },
): Promise<string> {
  const { host, name } = hop;
  const lines = [
    `HostName ${configValue(host.host)}`,
    `Port ${host.port}`,
    `User ${configValue(host.username)}`,
    'ControlMaster no',
    'ControlPath none',
    'BatchMode yes',
    'UpdateHostKeys no',
    'GlobalKnownHostsFile /dev/null',
    `ConnectTimeout ${Math.max(1, Math.ceil(host.timeoutMs / 1000))}`,
  ];
  if (host.privateKeyPath) {
    lines.push(`IdentityFile ${configPath(expandHome(host.privateKeyPath))}`, 'IdentitiesOnly yes');
  } else if (!o.env.SSH_AUTH_SOCK) {
    throw new ReefError(
      'reef_ssh_auth',
      `no SSH credentials for ${host.username}@${host.host} (${name}): no privateKeyPath and no SSH agent (SSH_AUTH_SOCK is not set)`,
      { hint: `Set hosts.${name}.privateKeyPath, or start Reef with an SSH agent holding the key.` },
    );
  }
  if (via) {
    // %h and %p are this hop's HostName and Port; the quoted config path survives the shell ssh runs it with.
    lines.push(`ProxyCommand ssh -F ${shellQuote(o.configPath).replace(/%/g, '%%')} -W [%h]:%p ${via.alias}`);
  }
  if (host.hostKeyFingerprint) {
    lines.push(`HostKeyAlias ${hop.alias}`, `UserKnownHostsFile ${configPath(o.knownHosts)}`);
    lines.push('StrictHostKeyChecking yes');
  } else if (host.knownHostsPath) {
    const pin = await loadHostKeyPin(name, host);
    if (pin.kind === 'known-hosts' && !pin.entries.some((e) => !e.revoked)) {
      throw new ReefError(
        'reef_ssh_host_key',
        `host key of ${name} (${host.host}:${host.port}) is not in ${pin.path}; refusing to run the playbook`,
        {
          hint: `Add its ${knownHostsName(host.host, host.port)} line to ${pin.path}, or pin hostKeyFingerprint.`,
        },
      );
    }
    lines.push(
      `UserKnownHostsFile ${configPath(expandHome(host.knownHostsPath))}`,
      'StrictHostKeyChecking yes',
    );
  } else if (!host.verifyHostKey) {
    o.log(
      `WARNING: host key verification is OFF for ${name} (verifyHostKey: false); ansible-playbook will not check it`,
    );
    lines.push('UserKnownHostsFile /dev/null', 'StrictHostKeyChecking no', 'LogLevel ERROR');
  } else {
    throw new ReefError(
      'reef_ssh_host_key',
      `host key of ${name} (${host.host}:${host.port}) is not pinned; refusing to run the playbook`,
      { hint: `Add hostKeyFingerprint (ssh-keygen -lf on the host) or knownHostsPath to hosts.${name}.` },
    );
  }
  return [`Host ${hop.alias}`, ...lines.map((l) => `  ${l}`)].join('\n');
}

/** Learns the hop's host key without authenticating, and keeps it only if it matches the pinned fingerprint. */
async function pinByProbe(
  hop: Hop,
  fingerprint: string,
  o: { dir: string; configPath: string; knownHosts: string; env: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<void> {
  const scratch = path.join(o.dir, 'probe_known_hosts');
  const seen: string[] = [];
  let lastError = '';
  for (const keyType of [undefined, ...PROBE_KEY_TYPES]) {
    await rm(scratch, { force: true });
    const result = await runTool(
      [
        'ssh',
        '-F',
        o.configPath,
        '-o',
        'StrictHostKeyChecking=accept-new',
        '-o',
        `UserKnownHostsFile=${configPath(scratch)}`,
        '-o',
        'PreferredAuthentications=none',
        '-o',
        'LogLevel=ERROR',
        ...(keyType ? ['-o', `HostKeyAlgorithms=${keyType}`] : []),
        hop.alias,
        'true',
      ],
      { env: o.env, timeoutMs: hop.host.timeoutMs + 5000, ...(o.signal ? { signal: o.signal } : {}) },
    );
    const entries = parseKnownHosts(await readFile(scratch, 'utf8').catch(() => ''));
    if (entries.length === 0) {
      lastError ||= result.output.trim();
      // The default probe reaching nobody means the host is unreachable, not that a key type is missing.
      if (keyType === undefined) break;
      continue;
    }
    for (const entry of entries) {
      const got = fingerprintOf(entry.key);
      if (got === fingerprint) {
        await appendFile(o.knownHosts, `${hop.alias} ${entry.keyType} ${entry.key.toString('base64')}\n`);
        return;
      }
      if (!seen.includes(`${got} (${entry.keyType})`)) seen.push(`${got} (${entry.keyType})`);
    }
  }
  const where = `${hop.name} (${hop.host.host}:${hop.host.port})`;
  if (seen.length === 0) {
    throw new ReefError(
      'reef_ssh_unreachable',
      `cannot reach ${where} to check its host key: ${lastError || 'no answer'}`,
      {
        hint: `Check hosts.${hop.name} (address, port, bastion) and that sshd runs there.`,
      },
    );
  }
  throw new ReefError(
    'reef_ssh_host_key',
    `host key mismatch for ${where}: expected ${fingerprint}, got ${seen.join(' or ')}; refusing to run the playbook`,
    {
      hint: `If the host key was changed on purpose, check it on the host with ssh-keygen -lf and update hosts.${hop.name}.hostKeyFingerprint. Otherwise the connection may be intercepted.`,
    },
  );
}

/** A value in ssh_config: double-quoted when it has spaces; quotes and control characters are refused. */
function configValue(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/["\0-\x1f]/.test(value))
    throw new Error(`cannot put ${JSON.stringify(value)} into an ssh_config file`);
  return /\s/.test(value) ? `"${value}"` : value;
}

/** A path in ssh_config, where `%` starts a token (%h, %d) and must be doubled. */
function configPath(value: string): string {
  return configValue(value.replace(/%/g, '%%'));
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
