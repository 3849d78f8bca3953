import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { ansiblePlaybookExecutor, parseRecap } from '../../src/executors/ansible-playbook.js';
import type { StepContext } from '../../src/executors/executor.js';
import { hostEntry, sshdUnavailable, startSshd, type TestSshd } from '../fixtures/sshd.js';
import { bounds, refusal, runStep, stepContext } from '../helpers/step-context.js';

const PLAYBOOKS = fileURLToPath(new URL('../fixtures/ansible', import.meta.url));

describe('ansible.playbook parameters (no ansible run)', () => {
  const runbook = bounds({ dir: PLAYBOOKS });

  it('keeps the playbook inside the runbook folder', () => {
    expect(refusal(ansiblePlaybookExecutor, { host: 'web', playbook: '../sshd.ts.yml' }, runbook)).toMatch(
      /leaves the runbook folder/,
    );
    expect(
      refusal(ansiblePlaybookExecutor, { host: 'web', playbook: 'sub/../../../etc/x.yml' }, runbook),
    ).toMatch(/leaves the runbook folder/);
    expect(refusal(ansiblePlaybookExecutor, { host: 'web', playbook: '/etc/x.yml' }, runbook)).toMatch(
      /not absolute/,
    );
    expect(refusal(ansiblePlaybookExecutor, { host: 'web', playbook: 'notes.txt' }, runbook)).toMatch(
      /\.yml/,
    );
    expect(
      refusal(ansiblePlaybookExecutor, { host: 'web', playbook: 'write-marker.yml' }, runbook),
    ).toBeUndefined();
  });

  it('refuses extra vars that would reconfigure the connection, and bad names', () => {
    const params = (extraVars: Record<string, string>) => ({ host: 'web', playbook: 'fail.yml', extraVars });
    expect(
      refusal(ansiblePlaybookExecutor, params({ ansible_ssh_common_args: '-o ProxyCommand=sh' })),
    ).toMatch(/ansible_ssh_common_args" is an ansible_\* connection variable/);
    expect(refusal(ansiblePlaybookExecutor, params({ ANSIBLE_become: 'yes' }))).toMatch(
      /connection variable/,
    );
    expect(refusal(ansiblePlaybookExecutor, params({ 'a-b': 'x' }))).toMatch(/"a-b" is not a variable name/);
    expect(refusal(ansiblePlaybookExecutor, params({ path: '{{ lookup("pipe", "id") }}' }))).toBeUndefined();
  });

  it('describes the argv', () => {
    expect(
      ansiblePlaybookExecutor.describe(
        { host: 'web', playbook: 'write-marker.yml', extraVars: { a: 'b' }, check: true },
        runbook,
      ),
    ).toBe(
      `ansible-playbook -i <inventory of the host> --limit web -e @<extra vars file> --check ${path.join(PLAYBOOKS, 'write-marker.yml')} ` +
        '(ssh: -o ControlMaster=no -o ControlPath=none, host key as pinned in hosts.web)',
    );
    expect(ansiblePlaybookExecutor.mutates).toBe(true);
  });

  it('reads the recap of the host', () => {
    const output =
      'PLAY RECAP *****\nweb.1   : ok=3    changed=1    unreachable=0    failed=0    skipped=2    rescued=0    ignored=1\n' +
      'web     : ok=9    changed=9    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0\n';
    expect(parseRecap(output, 'web.1')).toEqual({
      ok: 3,
      changed: 1,
      unreachable: 0,
      failed: 0,
      skipped: 2,
      rescued: 0,
      ignored: 1,
    });
    expect(parseRecap('no recap here', 'web')).toBeUndefined();
  });
});

const unavailable =
  sshdUnavailable() ?? (existsSync('/usr/bin/ansible-playbook') ? undefined : 'ansible-playbook is missing');
if (unavailable) console.warn(`skipping ansible-playbook tests: ${unavailable}`);

/**
 * Processes that could be left over from a run: any whose command line mentions `dir` (where this file's
 * runs keep their ssh_config), and ssh connection masters (`ssh: <control path> [mux]`, whatever their
 * path) other than those in `before`. They show here even once reparented away from the test.
 */
async function leftoverProcesses(dir: string, before: ReadonlySet<string> = new Set()): Promise<string> {
  return (await processes())
    .filter(([pid, cmdline]) => cmdline.includes(dir) || (isMux(cmdline) && !before.has(pid)))
    .map(([pid, cmdline]) => `${pid}: ${cmdline}`)
    .join('\n');
}

async function muxPids(): Promise<Set<string>> {
  return new Set((await processes()).filter(([, cmdline]) => isMux(cmdline)).map(([pid]) => pid));
}

const isMux = (cmdline: string) => /^ssh: .*\[mux\]/.test(cmdline);

async function processes(): Promise<[string, string][]> {
  const found: [string, string][] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    found.push([pid, cmdline.replace(/\0/g, ' ').trim()]);
  }
  return found;
}

describe.skipIf(unavailable)('ansible.playbook with the real ansible-playbook against a real sshd', () => {
  let bastion: TestSshd;
  let target: TestSshd;
  let work: string;
  let context: StepContext & { lines: string[]; close(): Promise<void> };
  const savedTmpdir = process.env.TMPDIR;

  beforeAll(async () => {
    bastion = await startSshd();
    // Reached through the bastion; on another loopback address, as a private host would be.
    target = await startSshd({ listenAddress: '127.0.0.2', clientKeyPath: bastion.clientKeyPath });
    work = await mkdtemp(path.join(tmpdir(), 'reef-test-ansible-'));
    // The executor's temp dirs go under `work` (this test file runs in its own worker process), so
    // processes of other test runs on the machine are never mistaken for leftovers of this one.
    process.env.TMPDIR = work;
    const knownHosts = path.join(work, 'known_hosts');
    await writeFile(knownHosts, `${bastion.knownHostsLine}\n`);
    const config = {
      hosts: {
        web: hostEntry(bastion),
        bastion: hostEntry(bastion),
        inner: hostEntry(target, { via: 'bastion' }),
        known: { ...hostEntry(bastion), hostKeyFingerprint: undefined, knownHostsPath: knownHosts },
        impostor: hostEntry(bastion, { hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` }),
        box: { local: true },
        privileged: { ...hostEntry(bastion), become: true },
      },
    };
    const hosts = configSchema.parse(config).hosts;
    context = {
      ...stepContext({ config, runbook: { dir: PLAYBOOKS } }),
      hostConfig: (name) => hosts[name],
    };
  });

  afterAll(async () => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    await context?.close();
    await Promise.all([bastion?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  const marker = (host: string, file: string, content: string, check?: boolean) =>
    runStep(
      ansiblePlaybookExecutor,
      {
        host,
        playbook: 'write-marker.yml',
        extraVars: { marker_path: path.join(work, file), marker_content: content },
        ...(check ? { check } : {}),
      },
      context,
    );

  it('runs the playbook on the host over SSH, returns the recap, and no ssh process outlives it', async () => {
    const logins = bastion.logins();
    const masters = await muxPids();
    // Template syntax in a value arrives as text: extra vars are marked !unsafe.
    const result = await marker('web', 'direct.txt', 'hello {{ 6 * 7 }}');
    expect(result.ok, result.output).toBe(true);
    expect(result.data?.recap).toMatchObject({ ok: 2, changed: 1, unreachable: 0, failed: 0 });
    expect(result.summary).toBe('write-marker.yml on web: ok=2 changed=1 unreachable=0 failed=0');
    expect(await readFile(path.join(work, 'direct.txt'), 'utf8')).toBe('hello {{ 6 * 7 }}\n');
    expect(bastion.logins()).toBeGreaterThan(logins);
    expect(await leftoverProcesses(work, masters)).toBe('');
  });

  it('a second run changes nothing; check mode reports a change and makes none', async () => {
    const again = await marker('web', 'direct.txt', 'hello {{ 6 * 7 }}');
    expect(again.data?.recap).toMatchObject({ ok: 2, changed: 0, failed: 0 });
    const dry = await marker('web', 'dry.txt', 'x', true);
    expect(dry.ok, dry.output).toBe(true);
    expect(dry.data).toMatchObject({ check: true, recap: { changed: 1, failed: 0 } });
    expect(existsSync(path.join(work, 'dry.txt'))).toBe(false);
  });

  it("a host's become: true runs the playbook through sudo (Ansible's --become); others do not", async () => {
    const run = (host: string, file: string) =>
      runStep(
        ansiblePlaybookExecutor,
        { host, playbook: 'sudo-marker.yml', extraVars: { marker_path: path.join(work, file) } },
        context,
      );
    const privileged = await run('privileged', 'sudo.txt');
    expect(privileged.ok, privileged.output).toBe(true);
    expect(await readFile(path.join(work, 'sudo.txt'), 'utf8')).toBe('root\n');
    const plain = await run('web', 'plain.txt');
    expect(plain.ok, plain.output).toBe(true);
    expect(await readFile(path.join(work, 'plain.txt'), 'utf8')).toBe('');
  });

  it('reaches a host through its bastion', async () => {
    const before = { bastion: bastion.logins(), target: target.logins() };
    const masters = await muxPids();
    const result = await marker('inner', 'inner.txt', 'via bastion');
    expect(result.ok, result.output).toBe(true);
    expect(result.data?.recap).toMatchObject({ ok: 2, changed: 1 });
    expect(await readFile(path.join(work, 'inner.txt'), 'utf8')).toBe('via bastion\n');
    expect(bastion.logins()).toBeGreaterThan(before.bastion);
    expect(target.logins()).toBeGreaterThan(before.target);
    expect(await leftoverProcesses(work, masters)).toBe('');
  });

  it('checks the host key against a configured known_hosts file', async () => {
    const result = await marker('known', 'known.txt', 'pinned by known_hosts');
    expect(result.ok, result.output).toBe(true);
  });

  it('refuses a host whose key does not match the pin, before logging in', async () => {
    const logins = bastion.logins();
    await expect(marker('impostor', 'never.txt', 'x')).rejects.toThrow(
      /host key mismatch for impostor .*expected SHA256:A{43}, got SHA256:.* \(ssh-ed25519\); refusing to run the playbook/,
    );
    expect(bastion.logins()).toBe(logins);
    expect(existsSync(path.join(work, 'never.txt'))).toBe(false);
  });

  it('reports a failing task as a failed step with its recap', async () => {
    const result = await runStep(ansiblePlaybookExecutor, { host: 'web', playbook: 'fail.yml' }, context);
    expect(result.ok).toBe(false);
    expect(result.data?.recap).toMatchObject({ failed: 1 });
    expect(result.summary).toMatch(/^fail\.yml on web: ok=0 changed=0 unreachable=0 failed=1 \(exit 2\)$/);
    expect(result.output).toContain('reef-test-failure');
  });

  it('runs on a local host without SSH', async () => {
    const result = await marker('box', 'local.txt', 'local');
    expect(result.ok, result.output).toBe(true);
    expect(await readFile(path.join(work, 'local.txt'), 'utf8')).toBe('local\n');
  });

  it('refuses a playbook symlinked from outside the runbook folder', async () => {
    const runbookDir = await mkdtemp(path.join(work, 'runbook-'));
    await symlink(path.join(PLAYBOOKS, 'write-marker.yml'), path.join(runbookDir, 'outside.yml'));
    await expect(
      runStep(
        ansiblePlaybookExecutor,
        { host: 'web', playbook: 'outside.yml' },
        {
          ...context,
          runbook: bounds({ dir: runbookDir }),
        },
      ),
    ).rejects.toThrow(/symlink leading out of the runbook folder/);
  });
});
