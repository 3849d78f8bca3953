import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { CommandOptions, CommandResult } from '../checks/check.js';
import type { HostConfig, SshHostConfig } from '../config/schema.js';
import { ReefError } from '../errors.js';
import { boundedCollector } from './local.js';
import { type Ssh2Client, SshConnection } from './ssh-connection.js';
import { connectError, forwardError, hopError, type Where } from './ssh-errors.js';
import {
  expandHome,
  fingerprintOf,
  hostKeyProblem,
  keyTypeOf,
  loadHostKeyPin,
  offeredAlgorithms,
} from './ssh-host-key.js';

const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

export interface SshPoolOptions {
  /** Where SSH_AUTH_SOCK is read from (injected for tests). */
  env?: NodeJS.ProcessEnv;
  /** Receives the loud warning about hosts with `verifyHostKey: false` (default: stderr). */
  warn?: (message: string) => void;
}

/** Hosts with verification off that were already warned about: once per host per process, not per sweep. */
const warnedInsecure = new Set<string>();

/**
 * SSH connections for one sweep: one connection per host name, opened on first use and shared by every
 * command on that host (bastions included, whose forwarded channels carry the hosts behind them), closed
 * together by `close()`. A host that could not be reached stays failed for the pool's lifetime, so a dead
 * host costs one timeout per sweep rather than one per command.
 */
export class SshPool {
  private readonly connections = new Map<string, Promise<SshConnection>>();
  /** Every connection that became ready, to end on close. */
  private readonly open: SshConnection[] = [];
  private closed = false;

  constructor(
    private readonly hosts: Readonly<Record<string, HostConfig>>,
    private readonly options: SshPoolOptions = {},
  ) {}

  async exec(name: string, argv: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
    const stdout = boundedCollector(options.maxBytes ?? DEFAULT_MAX_BYTES);
    const result = await this.stream(name, argv, stdout.add, options);
    return { ...result, stdout: stdout.text() };
  }

  async stream(
    name: string,
    argv: readonly string[],
    onStdout: (chunk: Buffer) => void,
    options: CommandOptions = {},
  ): Promise<Omit<CommandResult, 'stdout'>> {
    const command = remoteCommand(argv);
    const connection = await this.connection(name);
    return connection.run(command, onStdout, options.timeoutMs ?? this.sshHost(name).timeoutMs);
  }

  /**
   * Ends every connection and waits until they are closed: the hosts furthest down a bastion chain first
   * (their traffic runs through the hops), each depth in parallel.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.connections.values());
    const byDepth = new Map<number, SshConnection[]>();
    for (const connection of this.open) {
      const depth = this.depth(connection.name);
      byDepth.set(depth, [...(byDepth.get(depth) ?? []), connection]);
    }
    for (const depth of [...byDepth.keys()].sort((a, b) => b - a)) {
      await Promise.all(byDepth.get(depth)!.map((c) => c.end()));
    }
    this.connections.clear();
  }

  /** Number of bastions between Reef and the host (the config has no loops: the schema refuses them). */
  private depth(name: string): number {
    const via = this.sshHost(name).via;
    return via === undefined ? 0 : 1 + this.depth(via);
  }

  private connection(name: string): Promise<SshConnection> {
    if (this.closed)
      return Promise.reject(new Error(`the SSH connections of this sweep are closed (${name})`));
    let pending = this.connections.get(name);
    if (!pending) {
      pending = this.connect(name);
      this.connections.set(name, pending);
      // A failure is reported to each caller; this only keeps it from counting as unhandled.
      pending.catch(() => {});
    }
    return pending;
  }

  private sshHost(name: string): SshHostConfig {
    const host = this.hosts[name];
    if (!host || 'local' in host) throw new Error(`"${name}" is not an SSH host`);
    return host;
  }

  private async connect(name: string): Promise<SshConnection> {
    const host = this.sshHost(name);
    const where: Where = { name, host };
    let sock: Duplex | undefined;
    if (host.via) {
      let hop: SshConnection;
      try {
        hop = await this.connection(host.via);
      } catch (error) {
        throw hopError(where, host.via, error);
      }
      sock = await hop.forward(host.host, host.port, host.timeoutMs).catch((error: unknown) => {
        throw forwardError(where, host.via!, error);
      });
    }
    const credentials = await this.credentials(name, host);
    const pin = await loadHostKeyPin(name, host);
    let refused: ReefError | undefined;
    const ssh = new NodeSSH();
    const { keyPath, ...auth } = credentials;
    const connecting = ssh.connect({
      host: host.host,
      port: host.port,
      username: host.username,
      ...auth,
      ...(sock ? { sock } : {}),
      readyTimeout: host.timeoutMs,
      ...(offeredAlgorithms(pin) ? { algorithms: { serverHostKey: offeredAlgorithms(pin) } } : {}),
      hostVerifier: (key: Buffer) => {
        refused = hostKeyProblem(name, host, pin, key);
        if (!refused && pin.kind === 'none') this.warnInsecure(name, host, key);
        return refused === undefined;
      },
    });
    // node-ssh creates the ssh2 client synchronously (the key is passed as text, so nothing is awaited
    // first); listen at once, or an error after the handshake would be an unhandled 'error' event.
    const client = ssh.connection as Ssh2Client | null;
    client?.on('error', () => {});
    try {
      await connecting;
    } catch (error) {
      sock?.destroy();
      throw refused ?? connectError(where, error, keyPath);
    }
    const connection = new SshConnection(name, client!);
    this.open.push(connection);
    client!.once('close', () => {
      // A dropped connection is reopened by the next command instead of failing the rest of the sweep.
      if (!this.closed) this.connections.delete(name);
    });
    if (this.closed) await connection.end();
    return connection;
  }

  private async credentials(
    name: string,
    host: SshHostConfig,
  ): Promise<{ privateKey?: string; agent?: string; keyPath: string | undefined }> {
    if (host.privateKeyPath) {
      const keyPath = expandHome(host.privateKeyPath);
      try {
        return { privateKey: await readFile(keyPath, 'utf8'), keyPath };
      } catch (error) {
        throw new ReefError(
          'reef_ssh_auth',
          `cannot read the private key ${keyPath} for ${host.username}@${host.host} (${name}): ${(error as Error).message}`,
          { hint: `Fix hosts.${name}.privateKeyPath, or remove it to use the SSH agent.`, cause: error },
        );
      }
    }
    const agent = (this.options.env ?? process.env).SSH_AUTH_SOCK;
    if (agent) return { agent, keyPath: undefined };
    throw new ReefError(
      'reef_ssh_auth',
      `no SSH credentials for ${host.username}@${host.host} (${name}): no privateKeyPath and no SSH agent (SSH_AUTH_SOCK is not set)`,
      { hint: `Set hosts.${name}.privateKeyPath, or start Reef with an SSH agent holding the key.` },
    );
  }

  private warnInsecure(name: string, host: SshHostConfig, key: Buffer): void {
    const id = `${name}\u0000${host.host}:${host.port}`;
    if (warnedInsecure.has(id)) return;
    warnedInsecure.add(id);
    const seen = fingerprintOf(key);
    const message =
      `WARNING: host key verification is OFF for ${name} (${host.host}:${host.port}) ` +
      `(verifyHostKey: false). Accepting its ${keyTypeOf(key)} key ${seen} unchecked: anyone on the ` +
      `network path can impersonate this host, read the commands Reef sends and forge their output. ` +
      `Pin it: hostKeyFingerprint: ${seen}`;
    (this.options.warn ?? ((m: string) => process.stderr.write(`reef: ${m}\n`)))(message);
  }
}

/**
 * The command line for the remote POSIX shell: every argv element single-quoted (a `'` becomes `'\''`),
 * so nothing in it is ever interpreted. As for local commands: `LC_ALL=C`, so output parses the same, and
 * stdin from /dev/null (not by ending the channel's input: ssh2 could then no longer send a signal).
 * `exec`, so the signal sent on timeout reaches the command itself rather than the shell around it.
 */
export function remoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty command');
  for (const arg of argv) {
    if (arg.includes('\0')) throw new Error('a command argument contains a NUL byte');
  }
  return `LC_ALL=C exec ${argv.map(shellQuote).join(' ')} </dev/null`;
}

export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
