import type { CommandOptions, HostPort } from '../checks/check.js';
import type { ReefConfig } from '../config/schema.js';
import { ReefError } from '../errors.js';
import { execLocal, streamLocal } from './local.js';

const LOCAL_TIMEOUT_MS = 30_000;

/**
 * Runs commands on configured hosts: `local: true` ones on this machine. (SSH hosts: see ssh.ts.)
 */
export function createHostPort(config: ReefConfig): HostPort & { close(): Promise<void> } {
  const resolve = (name: string) => {
    const host = config.hosts[name];
    if (!host) {
      throw new ReefError('reef_check_failed', `unknown host "${name}"`, {
        hint: `Add it under hosts: (known: ${Object.keys(config.hosts).join(', ') || 'none'}).`,
      });
    }
    if (!('local' in host))
      throw new ReefError('reef_check_failed', `SSH hosts are not supported yet ("${name}")`);
    return host;
  };
  const timeout = (options: CommandOptions | undefined) => ({
    ...options,
    timeoutMs: options?.timeoutMs ?? LOCAL_TIMEOUT_MS,
  });
  return {
    async exec(name, argv, options) {
      resolve(name);
      return execLocal(argv, timeout(options));
    },
    async stream(name, argv, onStdout, options) {
      resolve(name);
      return streamLocal(argv, onStdout, timeout(options));
    },
    async close() {},
  };
}
