import { execFile } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesRotateLogsExecutor as step } from '../../src/executors/files-rotate-logs.js';
import { hostEntry, sshdUnavailable, startSshd, type TestSshd } from '../fixtures/sshd.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { bounds, refusal, runStep, stepContext } from '../helpers/step-context.js';
import { tmpfsUnavailable } from '../helpers/tmpfs.js';

const execFileAsync = promisify(execFile);

const unavailable = sshdUnavailable();
const STAMP = '20261128-030000'; // FakeClock's default time, as the copy's suffix

describe('files.rotateLogs validation', () => {
  const runbook = bounds({ roots: ['/var/log'] });
  it('refuses paths outside the roots, `..` and metacharacters; describes what it does', () => {
    const base = { host: 'web', paths: ['/var/log/app/*.log'] };
    expect(refusal(step, base, runbook)).toBeUndefined();
    expect(refusal(step, { ...base, paths: ['/var/log/../../etc/passwd'] }, runbook)).toMatch(
      /^paths\.0: "\/var\/log\/\.\.\/\.\.\/etc\/passwd" contains a "\.\." segment/,
    );
    expect(refusal(step, { ...base, paths: ['/var/*/app.log'] }, runbook)).toBe(
      "the directory of /var/*/app.log /var is outside the runbook's roots (/var/log); declare its directory under roots: or use a path inside them",
    );
    expect(refusal(step, { ...base, paths: ['/etc/shadow'] }, runbook)).toMatch(
      /outside the runbook's roots/,
    );
    expect(refusal(step, { ...base, paths: ['/var/log/`reboot`.log'] }, runbook)).toMatch(
      /shell metacharacter/,
    );
    expect(refusal(step, { ...base, keep: 0 }, runbook)).toMatch(/^keep:/);
    expect(step.describe(step.schema.parse({ ...base, minSize: '1M', keep: 3 }), runbook)).toBe(
      'on web: for each regular file of at least 1.0 MiB matching /var/log/app/*.log: copy to <file>.<UTC timestamp> (dd, nofollow, exclusive), truncate <file>, gzip the copy; keep the newest 3 copies, delete older ones',
    );
  });
});

for (const host of ['self', 'box'] as const) {
  describe.skipIf(host === 'box' && unavailable)(
    `files.rotateLogs on real files (${host === 'self' ? 'local' : 'over SSH'})`,
    () => {
      let sshd: TestSshd | undefined;
      let base: string;
      let logs: string;
      let outside: string;
      const content = Array.from(
        { length: 4000 },
        (_, i) => `2026-11-28T02:00:00Z INFO request ${i} served in 12ms\n`,
      ).join('');

      beforeAll(async () => {
        if (host === 'box') sshd = await startSshd();
        base = await mkdtemp(path.join(tmpdir(), `reef-rotate-${host}-`));
        logs = path.join(base, 'logs');
        outside = path.join(base, 'outside');
        await mkdir(path.join(logs, 'nested'), { recursive: true });
        await mkdir(outside);
        await writeFile(path.join(logs, 'app.log'), content);
        await writeFile(path.join(logs, 'app.log.20200101-000000.gz'), Buffer.alloc(300));
        await writeFile(path.join(logs, 'app.log.20210101-000000.gz'), Buffer.alloc(400));
        await writeFile(path.join(logs, 'app.log.20220101-000000'), Buffer.alloc(500));
        await writeFile(path.join(logs, 'app.log.1'), 'logrotate owns this\n');
        await writeFile(path.join(logs, 'small.log'), 'tiny\n');
        await writeFile(path.join(logs, 'empty.log'), '');
        await writeFile(path.join(logs, 'nested', 'deep.log'), 'x'.repeat(5000));
        await writeFile(path.join(outside, 'victim.log'), 'v'.repeat(5000));
        await symlink(path.join(outside, 'victim.log'), path.join(logs, 'link.log'));
        await writeFile(path.join(outside, 'hard-orig.log'), 'h'.repeat(3000));
        await link(path.join(outside, 'hard-orig.log'), path.join(logs, 'hard.log'));
        // Planted where this run's copy would go: a symlink to a file Reef must never write.
        await writeFile(path.join(outside, 'planted'), 'precious\n');
        await symlink(path.join(outside, 'planted'), path.join(logs, `app.log.${STAMP}`));
      });
      afterAll(async () => {
        await sshd?.stop();
        if (base) await rm(base, { recursive: true, force: true });
      });

      const context = () =>
        stepContext({
          config: { hosts: host === 'box' ? { box: hostEntry(sshd!) } : { self: { local: true } } },
          runbook: { roots: [logs] },
          clock: new FakeClock(),
        });

      it('copies, truncates and gzips live logs, keeps the newest copies, reports bytes freed', async () => {
        // A writer that keeps its file open (O_APPEND), as a daemon does: copytruncate is for it.
        const writer = createWriteStream(path.join(logs, 'app.log'), { flags: 'a' });
        await new Promise((resolve) => writer.once('open', resolve));
        const ctx = context();
        try {
          const result = await runStep(step, { host, paths: [`${logs}/*.log`], keep: 2, minSize: '1k' }, ctx);
          const copy = path.join(logs, `app.log.${STAMP}-1.gz`);
          expect(result.ok, result.output).toBe(true);
          expect(gunzipSync(await readFile(copy)).toString()).toBe(content);
          expect((await stat(copy)).mode & 0o777).toBe(0o600);
          expect((await stat(path.join(logs, 'app.log'))).size).toBe(0);
          const stored = (await stat(copy)).size;
          const deletedCopies = ['app.log.20210101-000000.gz', 'app.log.20200101-000000.gz'].map((f) =>
            path.join(logs, f),
          );
          expect(result.data).toEqual({
            bytesFreed: content.length - stored + 700,
            rotated: [
              { path: path.join(logs, 'app.log'), copy, copiedBytes: content.length, storedBytes: stored },
            ],
            deletedCopies,
            skipped: [
              `${path.join(logs, 'hard.log')}: has 2 hard links; truncating it would change the other names`,
            ],
          });
          expect(result.summary).toMatch(
            new RegExp(`^rotated 1 logs on ${host}, freed \\d+ KiB, 2 old copies deleted$`),
          );
          for (const f of deletedCopies) expect(existsSync(f)).toBe(false);
          expect(existsSync(path.join(logs, 'app.log.20220101-000000'))).toBe(true);
          // Not ours, not live logs, not regular, or too small: untouched.
          expect(await readFile(path.join(logs, 'app.log.1'), 'utf8')).toBe('logrotate owns this\n');
          expect(await readFile(path.join(logs, 'small.log'), 'utf8')).toBe('tiny\n');
          expect((await stat(path.join(logs, 'nested', 'deep.log'))).size).toBe(5000);
          expect(await readFile(path.join(outside, 'victim.log'), 'utf8')).toBe('v'.repeat(5000));
          expect(await readFile(path.join(outside, 'hard-orig.log'), 'utf8')).toBe('h'.repeat(3000));
          expect(await readFile(path.join(outside, 'planted'), 'utf8')).toBe('precious\n');
          // The writer's next line lands in the truncated file.
          await new Promise<void>((resolve) => writer.write('after rotation\n', () => resolve()));
          expect(await readFile(path.join(logs, 'app.log'), 'utf8')).toBe('after rotation\n');
        } finally {
          writer.close();
          await ctx.close();
        }
      });

      it('compress: false keeps a plain copy, which frees nothing; a second rotation in the same second gets -1', async () => {
        await writeFile(path.join(logs, 'plain.log'), 'p'.repeat(2000));
        const ctx = context();
        try {
          const result = await runStep(
            step,
            { host, paths: [path.join(logs, 'plain.log')], compress: false },
            ctx,
          );
          expect(result.data).toMatchObject({
            bytesFreed: 0,
            rotated: [{ copy: path.join(logs, `plain.log.${STAMP}`) }],
          });
          await writeFile(path.join(logs, 'plain.log'), 'q'.repeat(10));
          const again = await runStep(
            step,
            { host, paths: [path.join(logs, 'plain.log')], compress: false },
            ctx,
          );
          expect(again.data).toMatchObject({
            rotated: [{ copy: path.join(logs, `plain.log.${STAMP}-1`), copiedBytes: 10 }],
          });
          expect(await readFile(path.join(logs, `plain.log.${STAMP}`), 'utf8')).toBe('p'.repeat(2000));
        } finally {
          await ctx.close();
        }
      });

      it('a directory that is a symlink out of the roots is refused on the host, after realpath', async () => {
        await symlink(outside, path.join(logs, 'escape'));
        const ctx = context();
        try {
          const params = { host, paths: [`${logs}/escape/*.log`] };
          expect(refusal(step, params, ctx.runbook)).toBeUndefined();
          await expect(runStep(step, params, ctx)).rejects.toThrow(
            /resolves to .*\/outside on .*, outside the runbook's roots/,
          );
          expect(await readFile(path.join(outside, 'victim.log'), 'utf8')).toBe('v'.repeat(5000));
        } finally {
          await ctx.close();
        }
      });
    },
  );
}

const noTmpfs = await tmpfsUnavailable();
if (noTmpfs) console.warn(`skipping the full-disk rotation test: ${noTmpfs}`);

describe.skipIf(noTmpfs)('files.rotateLogs on a nearly full disk (a real 4 MiB tmpfs)', () => {
  let mount: string;
  beforeAll(async () => {
    mount = await mkdtemp(path.join(tmpdir(), 'reef-rotate-full-'));
    await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount]);
  });
  afterAll(async () => {
    if (!mount) return;
    await execFileAsync('umount', [mount]).catch(() => {});
    await rm(mount, { recursive: true, force: true });
  });

  it('does not start a copy that cannot fit: the log is untouched and no partial copy is left', async () => {
    const log = path.join(mount, 'app.log');
    const content = 'x'.repeat(3 * 1024 * 1024 - 100);
    await writeFile(log, content);
    const ctx = stepContext({
      config: { hosts: { self: { local: true } } },
      runbook: { roots: [mount] },
      clock: new FakeClock(),
    });
    try {
      const result = await runStep(step, { host: 'self', paths: [`${mount}/*.log`] }, ctx);
      expect(result.ok).toBe(false);
      expect(`${result.summary}\n${result.output}`).toMatch(
        /not enough free space for it; the log is untouched.*need \d+ bytes, \d+ available/s,
      );
      expect((await stat(log)).size).toBe(content.length);
      expect(await readdir(mount)).toEqual(['app.log']);
    } finally {
      await ctx.close();
    }
  });
});
