import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHostPort } from '../../src/adapters/hosts.js';
import { configSchema } from '../../src/config/schema.js';
import { sshdUnavailable, hostEntry as sshHost, startSshd, type TestSshd } from '../fixtures/sshd.js';
import { closedPort } from '../helpers/http-server.js';

const execFileAsync = promisify(execFile);
const unavailable = sshdUnavailable();
if (unavailable) console.warn(`skipping SSH trust and failure tests: ${unavailable}`);

/** Who may log in, which host keys are trusted, and every way a connection fails: each a clear error. */
describe.skipIf(unavailable)('SSH authentication, host keys and failures against a real sshd', () => {
  let bastion: TestSshd;
  let target: TestSshd;
  let noForward: TestSshd;
  let dir: string;
  let wrongKey: string;
  let silent: Server;
  const silentSockets = new Set<Socket>();

  beforeAll(async () => {
    bastion = await startSshd();
    target = await startSshd({ listenAddress: '127.0.0.2', clientKeyPath: bastion.clientKeyPath });
    noForward = await startSshd({ clientKeyPath: bastion.clientKeyPath, config: ['AllowTcpForwarding no'] });
    dir = await mkdtemp(path.join(tmpdir(), 'reef-ssh-trust-'));
    wrongKey = path.join(dir, 'wrong_ed25519');
    await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
    // Accepts TCP and never says a word: a host whose sshd hangs.
    silent = createServer((socket) => {
      silentSockets.add(socket);
      socket.on('close', () => silentSockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of silentSockets) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    await Promise.all([bastion?.stop(), target?.stop(), noForward?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const hostPort = (hosts: Record<string, unknown>, options: Parameters<typeof createHostPort>[1] = {}) =>
    createHostPort(configSchema.parse({ hosts }), options);

  it('wrong key: a clear authentication error naming user@host and the key', async () => {
    const port = hostPort({ web: sshHost(bastion, { privateKeyPath: wrongKey }) });
    try {
      const error = await port.exec('web', ['true']).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'reef_ssh_auth' });
      expect((error as Error).message).toBe(
        `SSH authentication failed for ${bastion.username}@127.0.0.1:${bastion.port} (web) with key ${wrongKey}: the server accepted none`,
      );
    } finally {
      await port.close();
    }
  });

  it('host key mismatch: refused, showing the fingerprint the server presented', async () => {
    const port = hostPort({ 'web-1': sshHost(bastion, { hostKeyFingerprint: target.hostKeyFingerprint }) });
    try {
      const error = await port.exec('web-1', ['true']).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'reef_ssh_host_key' });
      expect((error as Error).message).toContain(
        `host key mismatch for web-1 (127.0.0.1:${bastion.port}): expected ${target.hostKeyFingerprint}, got ${bastion.hostKeyFingerprint} (ssh-ed25519)`,
      );
    } finally {
      await port.close();
    }
  });

  it('no pin: refused with the fingerprint seen and the config line to add; verifyHostKey: false warns once', async () => {
    const port = hostPort({ web: sshHost(bastion, { hostKeyFingerprint: undefined }) });
    try {
      const error = await port.exec('web', ['true']).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'reef_ssh_host_key' });
      expect((error as Error).message).toContain(`presented ssh-ed25519 ${bastion.hostKeyFingerprint}`);
      expect((error as Error).message).toContain(`hostKeyFingerprint: ${bastion.hostKeyFingerprint}`);
    } finally {
      await port.close();
    }
    const warnings: string[] = [];
    const insecure = { lax: sshHost(bastion, { hostKeyFingerprint: undefined, verifyHostKey: false }) };
    for (let sweep = 0; sweep < 2; sweep++) {
      const lax = hostPort(insecure, { warn: (m) => warnings.push(m) });
      try {
        expect((await lax.exec('lax', ['echo', 'ok'])).stdout).toBe('ok\n');
      } finally {
        await lax.close();
      }
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/host key verification is OFF for lax/);
    expect(warnings[0]).toContain(bastion.hostKeyFingerprint);
  });

  it('pins with known_hosts: plain and hashed entries; unknown, changed and revoked keys refused', async () => {
    const file = async (name: string, text: string) => {
      const p = path.join(dir, name);
      await writeFile(p, text);
      return p;
    };
    const [, type, key] = bastion.knownHostsLine.split(' ');
    const otherKey = target.knownHostsLine.split(' ')[2];
    const plain = await file(
      'plain',
      `# comment\nother.example ${type} ${otherKey}\n${bastion.knownHostsLine}\n`,
    );
    const hashed = await file('hashed', `${bastion.knownHostsLine}\n`);
    await execFileAsync('ssh-keygen', ['-H', '-f', hashed]);
    const missing = await file('missing', `other.example ${type} ${otherKey}\n`);
    const changed = await file('changed', `[127.0.0.1]:${bastion.port} ${type} ${otherKey}\n`);
    const revoked = await file('revoked', `@revoked * ${type} ${key}\n${bastion.knownHostsLine}\n`);
    const pinned = (knownHostsPath: string) =>
      sshHost(bastion, { hostKeyFingerprint: undefined, knownHostsPath });
    const port = hostPort({
      plain: pinned(plain),
      hashed: pinned(hashed),
      missing: pinned(missing),
      changed: pinned(changed),
      revoked: pinned(revoked),
    });
    try {
      expect((await port.exec('plain', ['echo', 'ok'])).stdout).toBe('ok\n');
      expect((await port.exec('hashed', ['echo', 'ok'])).stdout).toBe('ok\n');
      await expect(port.exec('missing', ['true'])).rejects.toThrow(
        `presented ssh-ed25519 ${bastion.hostKeyFingerprint}; refusing to connect (after you check it on the host with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`, add this line to that file: ${bastion.knownHostsLine})`,
      );
      await expect(port.exec('changed', ['true'])).rejects.toThrow(
        new RegExp(
          `host key mismatch for changed .*: expected ${esc(target.hostKeyFingerprint)} \\(ssh-ed25519, .*changed line 1\\), got ${esc(bastion.hostKeyFingerprint)}`,
        ),
      );
      await expect(port.exec('revoked', ['true'])).rejects.toThrow(/is marked @revoked in .*revoked line 1/);
    } finally {
      await port.close();
    }
  });

  it('unreachable: connection refused, and a silent port times out within the host timeout', async () => {
    const down = await closedPort();
    const silentPort = (silent.address() as { port: number }).port;
    const port = hostPort({
      down: sshHost(bastion, { port: down }),
      silent: sshHost(bastion, { port: silentPort, timeoutMs: 500 }),
    });
    try {
      await expect(port.exec('down', ['true'])).rejects.toMatchObject({
        code: 'reef_ssh_unreachable',
        message: `cannot reach down (127.0.0.1:${down}): connection refused`,
      });
      await expect(port.exec('silent', ['true'])).rejects.toMatchObject({
        code: 'reef_ssh_unreachable',
        message: `cannot reach silent (127.0.0.1:${silentPort}): no SSH handshake within 500 ms`,
      });
    } finally {
      await port.close();
    }
  });

  it('bastion failures name the hop: its auth failing, or it refusing to forward', async () => {
    const port = hostPort({
      'bad-bastion': sshHost(bastion, { privateKeyPath: wrongKey }),
      web: sshHost(target, { via: 'bad-bastion' }),
      strict: sshHost(noForward),
      app: sshHost(target, { via: 'strict' }),
    });
    try {
      const auth = await port.exec('web', ['true']).catch((e: unknown) => e);
      expect(auth).toMatchObject({ code: 'reef_ssh_auth' });
      expect((auth as Error).message).toMatch(
        /^cannot reach web through bastion "bad-bastion": SSH authentication failed for \S+@127\.0\.0\.1:\d+ \(bad-bastion\) with key .*wrong_ed25519/,
      );
      await expect(port.exec('app', ['true'])).rejects.toMatchObject({
        code: 'reef_ssh_unreachable',
        message: expect.stringMatching(
          new RegExp(
            `^bastion "strict" could not open a connection to 127\\.0\\.0\\.2:${target.port} for app: .*prohibited`,
          ),
        ),
      });
    } finally {
      await port.close();
    }
  });
  it('without privateKeyPath: the keys of the SSH agent, or a clear error when there is none', async () => {
    const socket = path.join(dir, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      await waitForFile(socket);
      await execFileAsync('ssh-add', [bastion.clientKeyPath], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
      });
      const viaAgent = hostPort(
        { web: sshHost(bastion, { privateKeyPath: undefined }) },
        { env: { SSH_AUTH_SOCK: socket } },
      );
      try {
        expect((await viaAgent.exec('web', ['echo', 'agent'])).stdout).toBe('agent\n');
      } finally {
        await viaAgent.close();
      }
    } finally {
      const exited = new Promise((resolve) => agent.once('exit', resolve));
      agent.kill('SIGTERM');
      await exited;
    }
    const none = hostPort({ web: sshHost(bastion, { privateKeyPath: undefined }) }, { env: {} });
    try {
      await expect(none.exec('web', ['true'])).rejects.toMatchObject({
        code: 'reef_ssh_auth',
        message: expect.stringMatching(
          /^no SSH credentials for \S+@127\.0\.0\.1 \(web\): no privateKeyPath and no SSH agent/,
        ),
      });
    } finally {
      await none.close();
    }
  });
});

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

async function waitForFile(file: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await stat(file).catch(() => undefined))?.isSocket()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${file} did not appear within ${timeoutMs} ms`);
}
