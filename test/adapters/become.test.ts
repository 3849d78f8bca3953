import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUDO } from '../../src/adapters/become.js';
import { systemClock } from '../../src/adapters/clock.js';
import { configSchema } from '../../src/config/schema.js';
import { defaultPorts } from '../../src/execution/deps.js';
import { createCheckContext } from '../../src/runtime/check-context.js';
import { hostEntry, sshdUnavailable, startSshd, type TestSshd } from '../fixtures/sshd.js';

const noSshd = sshdUnavailable();
const noSudo = (() => {
  try {
    execFileSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'passwordless sudo is not available to this user (install sudo; CI runs as root)';
  }
})();
if (noSudo) console.warn(`skipping the become tests: ${noSudo}`);

/**
 * `become: true` on a host: the commands runbook steps run there go through `sudo -n --` (sudo sets
 * SUDO_COMMAND for what it runs, which is how the test sees it); checks on the same host never do.
 */
describe.skipIf(noSudo || noSshd)('hosts with become: true', () => {
  let sshd: TestSshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  const config = () =>
    configSchema.parse({
      hosts: {
        local: { local: true },
        'local-root': { local: true, become: true },
        remote: hostEntry(sshd),
        'remote-root': { ...hostEntry(sshd), become: true },
      },
    });

  it('steps run through sudo -n on those hosts, locally and over SSH, and as given elsewhere', async () => {
    const ports = defaultPorts(config());
    try {
      const sudoCommand = async (host: string) =>
        (await ports.hosts.exec(host, ['printenv', 'SUDO_COMMAND'])).stdout.trim();
      expect(await sudoCommand('local-root')).toMatch(/printenv SUDO_COMMAND$/);
      expect(await sudoCommand('remote-root')).toMatch(/printenv SUDO_COMMAND$/);
      expect(await sudoCommand('local')).toBe('');
      expect(await sudoCommand('remote')).toBe('');
      // Streams too (the error-log reader's path), and arguments stay one element each.
      let streamed = '';
      await ports.hosts.stream('remote-root', ['printf', '%s|', 'a b', '$(id)'], (chunk) => {
        streamed += chunk.toString();
      });
      expect(streamed).toBe('a b|$(id)|');
    } finally {
      await ports.close();
    }
    expect(SUDO).toEqual(['sudo', '-n', '--']);
  });

  it('checks on a become host stay unprivileged', async () => {
    const { context, close } = createCheckContext(config(), { clock: systemClock });
    try {
      const result = await context.hosts.exec('remote-root', ['printenv', 'SUDO_COMMAND']);
      expect(result.stdout.trim()).toBe('');
    } finally {
      await close();
    }
  });
});
