import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHostPort } from '../../src/adapters/hosts.js';
import { remoteCommand, shellQuote } from '../../src/adapters/ssh.js';
import { expandHome, hostFieldMatches, knownHostsName } from '../../src/adapters/ssh-host-key.js';
import { configSchema } from '../../src/config/schema.js';
import { sshdUnavailable, hostEntry as sshHost, startSshd, type TestSshd } from '../fixtures/sshd.js';

const unavailable = sshdUnavailable();
if (unavailable) console.warn(`skipping SSH adapter tests: ${unavailable}`);

describe('shell quoting (pure)', () => {
  it('single-quotes every element and escapes quotes the POSIX way', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe(`''`);
    expect(remoteCommand(['df', '-P', '--', '/a b'])).toBe(`LC_ALL=C exec 'df' '-P' '--' '/a b' </dev/null`);
    expect(() => remoteCommand(['echo', 'a\0b'])).toThrow(/NUL/);
    expect(expandHome('~/.ssh/reef_ed25519')).toBe(path.join(homedir(), '.ssh/reef_ed25519'));
    expect(expandHome('/etc/~x')).toBe('/etc/~x');
  });

  it('matches known_hosts host fields: [host]:port, wildcards, negation, hashed names', () => {
    expect(knownHostsName('Web.example', 22)).toBe('web.example');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(hostFieldMatches('a.example,[127.0.0.1]:2222', '[127.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches('127.0.0.1', '[127.0.0.1]:2222')).toBe(false);
    expect(hostFieldMatches('*.example,!bad.example', 'web.example')).toBe(true);
    expect(hostFieldMatches('*.example,!bad.example', 'bad.example')).toBe(false);
    expect(hostFieldMatches('web-?', 'web-1')).toBe(true);
  });
});

describe.skipIf(unavailable)('SSH host port against a real sshd', () => {
  let bastion: TestSshd;
  let target: TestSshd;
  let dir: string;

  beforeAll(async () => {
    bastion = await startSshd();
    // Reached through the bastion; listening on another loopback address, as a private host would.
    target = await startSshd({ listenAddress: '127.0.0.2', clientKeyPath: bastion.clientKeyPath });
    dir = await mkdtemp(path.join(tmpdir(), 'reef-ssh-test-'));
  });

  afterAll(async () => {
    await Promise.all([bastion?.stop(), target?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const hostPort = (hosts: Record<string, unknown>) => createHostPort(configSchema.parse({ hosts }));

  it('runs argv on the host and returns stdout, stderr and the exit code', async () => {
    const port = hostPort({ web: sshHost(bastion) });
    try {
      expect(await port.exec('web', ['echo', 'hello'])).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
      const failed = await port.exec('web', ['sh', '-c', 'echo oops >&2; exit 3']);
      expect(failed).toEqual({ code: 3, stdout: '', stderr: 'oops\n' });
      const cut = await port.exec('web', ['head', '-c', '100000', '/dev/zero'], { maxBytes: 1000 });
      expect(cut.stdout).toHaveLength(1000);
      let streamed = 0;
      const streamedResult = await port.stream('web', ['head', '-c', '300000', '/dev/zero'], (chunk) => {
        streamed += chunk.length;
      });
      expect(streamedResult.code).toBe(0);
      expect(streamed).toBe(300_000);
    } finally {
      await port.close();
    }
  });

  it('reaches a host through a bastion, and through a chain of two', async () => {
    const loginsBefore = { bastion: bastion.logins(), target: target.logins() };
    const port = hostPort({
      bastion: sshHost(bastion),
      mid: sshHost(bastion, { via: 'bastion' }),
      web: sshHost(target, { via: 'bastion' }),
      deep: sshHost(target, { via: 'mid' }),
    });
    try {
      expect((await port.exec('web', ['echo', 'via bastion'])).stdout).toBe('via bastion\n');
      expect((await port.exec('deep', ['echo', 'via two hops'])).stdout).toBe('via two hops\n');
    } finally {
      await port.close();
    }
    // bastion + mid (the bastion again, reached through itself) on one sshd; web + deep on the other.
    expect(bastion.logins() - loginsBefore.bastion).toBe(2);
    expect(target.logins() - loginsBefore.target).toBe(2);
  });

  it('passes shell metacharacters as literal data, directly and through a bastion', async () => {
    const marker = path.join(dir, 'pwned');
    const nasty = [
      `$(touch ${marker}-subst)`,
      `\`touch ${marker}-backtick\``,
      `; touch ${marker}-semicolon`,
      `&& rm -rf ${dir} ||`,
      `| touch ${marker}-pipe`,
      `it's "quoted" \\ here`,
      `two\nlines; touch ${marker}-newline`,
      '*',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the point
      '$HOME ${PATH} ~',
      '',
    ];
    const port = hostPort({
      direct: sshHost(bastion),
      bastion: sshHost(bastion),
      behind: sshHost(target, { via: 'bastion' }),
      self: { local: true },
    });
    try {
      for (const host of ['direct', 'behind', 'self']) {
        const result = await port.exec(host, ['printf', '%s\\0', ...nasty]);
        expect(result.code, host).toBe(0);
        expect(result.stdout.split('\0').slice(0, -1), host).toEqual(nasty);
      }
    } finally {
      await port.close();
    }
    expect((await readdir(dir)).filter((f) => f.startsWith('pwned'))).toEqual([]);
    expect(existsSync(dir)).toBe(true);
  });

  it('reuses one connection per host for a whole sweep, beyond the per-connection session limit', async () => {
    const before = bastion.logins();
    const port = hostPort({ web: sshHost(bastion) });
    try {
      // 20 at once: more than OpenSSH's MaxSessions (10) on one connection.
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => port.exec('web', ['echo', `${i}`])),
      );
      expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
      await port.exec('web', ['true']);
      expect(bastion.logins() - before).toBe(1);
    } finally {
      await port.close();
    }
    const next = hostPort({ web: sshHost(bastion) });
    try {
      await next.exec('web', ['true']);
      expect(bastion.logins() - before).toBe(2);
    } finally {
      await next.close();
    }
    await expect(next.exec('web', ['true'])).rejects.toThrow(/closed/);
    // close() ends the connections: sshd sees each login disconnect.
    await waitFor(() => disconnects(bastion) >= bastion.logins());
  });

  it('rides out sshd refusing sessions over its MaxSessions: waits and retries the channel', async () => {
    const strict = await startSshd({
      clientKeyPath: bastion.clientKeyPath,
      config: ['MaxSessions 2', 'SetEnv SHLVL=1'],
    });
    const port = hostPort({ web: sshHost(strict) });
    try {
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) => port.exec('web', ['sh', '-c', `sleep 0.1; echo ${i}`])),
      );
      expect(results.map((r) => r.stdout)).toEqual(['0\n', '1\n', '2\n', '3\n', '4\n']);
      expect(strict.logins()).toBe(1);
    } finally {
      await port.close();
      await strict.stop();
    }
  });

  it('gives up on a command at its timeout and sends it KILL', async () => {
    const port = hostPort({ web: sshHost(bastion) });
    try {
      const result = await port.exec('web', ['sleep', '3'], { timeoutMs: 300 });
      expect(result.code).toBeNull();
      expect(result.stderr).toMatch(/killed after 300 ms/);
      // The signal request reached sshd. OpenSSH honours it for ordinary users only; this test logs in
      // as root (or runs sshd unprivileged), where sshd logs the refusal and the sleep runs out alone.
      await waitFor(() => /session_signal_req/.test(bastion.log()));
      expect((await port.exec('web', ['echo', 'still usable'])).stdout).toBe('still usable\n');
    } finally {
      await port.close();
    }
  });
});

function disconnects(server: TestSshd): number {
  return (server.log().match(/^Disconnected from user /gm) ?? []).length;
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
