import type { CommandOptions, HostPort } from '../checks/check.js';
import type { HostConfig, ReefConfig } from '../config/schema.js';
import { ReefError } from '../errors.js';
import { execLocal, streamLocal } from './local.js';
import type { SshPool, SshPoolOptions } from './ssh.js';

const LOCAL_TIMEOUT_MS = 30_000;

/**
 * Runs commands on configured hosts: `local: true` ones on this machine, the others over SSH (through
 * their bastions). Create one per sweep: SSH connections are opened on first use, reused by every command
 * of the sweep, and ended by `close()`.
 */
export function createHostPort(
  config: ReefConfig,
  options: SshPoolOptions = {},
): HostPort & { close(): Promise<void> } {
  // node-ssh/ssh2 load only when an SSH host is first used: most CLI runs and local-only set-ups never need them.
  let pool: Promise<SshPool> | undefined;
  const ssh = () => {
    pool ??= import('./ssh.js').then((m) => new m.SshPool(config.hosts, options));
    return pool;
  };
  const resolve = (name: string): HostConfig => {
    const host = config.hosts[name];
    if (!host) {
      throw new ReefError('reef_check_failed', `unknown host "${name}"`, {
        hint: `Add it under hosts: (known: ${Object.keys(config.hosts).join(', ') || 'none'}).`,
      });
    }
    return host;
  };
  const localOptions = (options: CommandOptions | undefined) => ({
    ...options,
    timeoutMs: options?.timeoutMs ?? LOCAL_TIMEOUT_MS,
  });
  return {
    async exec(name, argv, options) {
      if ('local' in resolve(name)) return execLocal(argv, localOptions(options));
      return (await ssh()).exec(name, argv, options);
    },
    async stream(name, argv, onStdout, options) {
      if ('local' in resolve(name)) return streamLocal(argv, onStdout, localOptions(options));
      return (await ssh()).stream(name, argv, onStdout, options);
    },
    async close() {
      if (pool) await (await pool).close();
    },
  };
}
