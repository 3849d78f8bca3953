import type { HostPort } from '../checks/check.js';
import type { ReefConfig } from '../config/schema.js';

/** What a step runs on a `become: true` host: sudo, never prompting (`-n`), then exactly the argv. */
export const SUDO = ['sudo', '-n', '--'] as const;

/**
 * The host port runbook steps use: on hosts with `become: true` every command goes through `sudo -n --`,
 * the way Ansible's `become` works. Certbot, log rotation and cleanup under /var need root, while the
 * SSH login (and every check) stays an ordinary user. Without passwordless sudo the step fails with
 * sudo's own "a password is required", never a prompt.
 */
export function becomeHostPort<P extends HostPort>(inner: P, config: Pick<ReefConfig, 'hosts'>): P {
  const argvFor = (host: string, argv: readonly string[]) =>
    config.hosts[host]?.become ? [...SUDO, ...argv] : argv;
  return {
    ...inner,
    exec: (host, argv, options) => inner.exec(host, argvFor(host, argv), options),
    stream: (host, argv, onStdout, options) => inner.stream(host, argvFor(host, argv), onStdout, options),
  };
}
