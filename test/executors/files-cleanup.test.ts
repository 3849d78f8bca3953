import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, lstat, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesCleanupExecutor as step } from '../../src/executors/files-cleanup.js';
import { hostEntry, sshdUnavailable, startSshd, type TestSshd } from '../fixtures/sshd.js';
import { bounds, refusal, runStep, stepContext } from '../helpers/step-context.js';

const execFileAsync = promisify(execFile);
const unavailable = sshdUnavailable();

/** A file of `size` bytes whose mtime is `age` ago (`touch -d`, as an operator would fake it). */
async function file(at: string, size: number, age?: string): Promise<void> {
  await mkdir(path.dirname(at), { recursive: true });
  await writeFile(at, Buffer.alloc(size, 'x'));
  if (age) await execFileAsync('touch', ['-h', '-d', age, at]);
}

/** Whether the name exists, a dangling or not symlink included. */
const present = (at: string) =>
  lstat(at).then(
    () => true,
    () => false,
  );

describe('files.cleanup validation', () => {
  const runbook = bounds({ roots: ['/var/tmp', '/srv/backups'] });
  const base = { host: 'web', root: '/var/tmp', patterns: ['*.tmp'], olderThan: '2d' };

  it('refuses roots outside the bounds, `..`, metacharacters, match-all patterns', () => {
    expect(refusal(step, base, runbook)).toBeUndefined();
    expect(refusal(step, { ...base, root: '/var/tmp/../../etc' }, runbook)).toBe(
      'root: "/var/tmp/../../etc" contains a ".." segment (paths must stay inside the roots)',
    );
    expect(refusal(step, { ...base, root: '/etc' }, runbook)).toBe(
      "root /etc is outside the runbook's roots (/var/tmp, /srv/backups); declare its directory under roots: or use a path inside them",
    );
    expect(refusal(step, { ...base, root: '/var/tmpfoo' }, runbook)).toMatch(/outside the runbook's roots/);
    expect(refusal(step, { ...base, root: '/var/tmp/$(reboot)' }, runbook)).toMatch(/shell metacharacter/);
    expect(refusal(step, { ...base, root: 'var/tmp' }, runbook)).toMatch(/not an absolute path/);
    expect(refusal(step, { ...base, patterns: ['*'] }, runbook)).toBe(
      'patterns.0: "*" matches every file; name what to delete (e.g. *.tmp)',
    );
    expect(refusal(step, { ...base, patterns: ['../*.tmp'] }, runbook)).toMatch(/without "\/"/);
    expect(refusal(step, { ...base, patterns: ['*.tmp;rm'] }, runbook)).toMatch(/shell metacharacter/);
    expect(refusal(step, { ...base, olderThan: '10s' }, runbook)).toMatch(/at least 1m/);
    expect(refusal(step, { ...base, minSize: '10 parsecs' }, runbook)).toMatch(/is not a size/);
    expect(refusal(step, { ...base, root: '/var//tmp/./x/' }, runbook)).toBeUndefined();
  });

  it('describes the find it runs', () => {
    const params = step.schema.parse({
      ...base,
      patterns: ['*.tmp', 'backup-*.tar*'],
      minSize: '1k',
      maxFiles: 10,
    });
    expect(step.describe(params, runbook)).toBe(
      "on web: find /var/tmp -xdev -type f '(' -name '*.tmp' -o -name 'backup-*.tar*' ')' -mmin +2880 -size +1023c -delete (oldest first, at most 10 files; realpath checked against the roots first)",
    );
  });
});

for (const host of ['self', 'box'] as const) {
  describe.skipIf(host === 'box' && unavailable)(
    `files.cleanup on real files (${host === 'self' ? 'local' : 'over SSH'})`,
    () => {
      let sshd: TestSshd | undefined;
      let base: string;
      let root: string;
      let outside: string;

      beforeAll(async () => {
        if (host === 'box') sshd = await startSshd();
        base = await mkdtemp(path.join(tmpdir(), `reef-cleanup-${host}-`));
        root = path.join(base, 'root');
        outside = path.join(base, 'outside');
        await file(path.join(root, 'old.tmp'), 4000, '3 days ago');
        await file(path.join(root, 'new.tmp'), 1000);
        await file(path.join(root, 'sub', 'deep', 'archive.gz'), 2000, '10 days ago');
        await file(path.join(root, 'backup-2026-11-01.tar.gz'), 5000, '20 days ago');
        await file(path.join(root, 'keep.log'), 3000, '10 days ago');
        await file(path.join(root, 'tiny.tmp'), 10, '10 days ago');
        await mkdir(path.join(root, 'dir.tmp'));
        await execFileAsync('touch', ['-d', '10 days ago', path.join(root, 'dir.tmp')]);
        // Outside the root: a symlink to a file, a symlink to a directory, a hard link.
        await file(path.join(outside, 'victim.tmp'), 6000, '10 days ago');
        await file(path.join(outside, 'nested', 'victim.tmp'), 6000, '10 days ago');
        await file(path.join(outside, 'shared.tmp'), 700, '9 days ago');
        await symlink(path.join(outside, 'victim.tmp'), path.join(root, 'link.tmp'));
        await execFileAsync('touch', ['-h', '-d', '10 days ago', path.join(root, 'link.tmp')]);
        await symlink(path.join(outside, 'nested'), path.join(root, 'linkdir'));
        await link(path.join(outside, 'shared.tmp'), path.join(root, 'hard.tmp'));
        await symlink(outside, path.join(root, 'escape'));
      });
      afterAll(async () => {
        await sshd?.stop();
        if (base) await rm(base, { recursive: true, force: true });
      });

      const context = () =>
        stepContext({
          config: { hosts: host === 'box' ? { box: hostEntry(sshd!) } : { self: { local: true } } },
          runbook: { roots: [root] },
        });

      it('deletes old matching regular files, reports bytes freed and the list; no symlink or directory touched', async () => {
        const ctx = context();
        try {
          const params = {
            host,
            root,
            patterns: ['*.tmp', '*.gz', 'backup-*.tar*'],
            olderThan: '2d',
            minSize: 100,
          };
          const result = await runStep(step, params, ctx);
          const deleted = ['backup-2026-11-01.tar.gz', 'sub/deep/archive.gz', 'hard.tmp', 'old.tmp'].map(
            (f) => path.join(root, f),
          );
          expect(result.ok).toBe(true);
          // The hard link's data lives on under its other name: it frees nothing.
          expect(result.data).toEqual({ bytesFreed: 5000 + 2000 + 4000, deleted: 4, files: deleted });
          expect(result.summary).toBe(
            `freed 11 KiB under ${root} on ${host}: 4 files (*.tmp, *.gz, backup-*.tar*) older than 2d`,
          );
          expect(result.output).toBe(deleted.join('\n'));
          for (const f of deleted) expect(existsSync(f), f).toBe(false);
          for (const kept of ['new.tmp', 'keep.log', 'tiny.tmp', 'dir.tmp', 'link.tmp', 'linkdir']) {
            expect(await present(path.join(root, kept)), kept).toBe(true);
          }
          expect((await execFileAsync('readlink', [path.join(root, 'link.tmp')])).stdout.trim()).toBe(
            path.join(outside, 'victim.tmp'),
          );
          for (const victim of ['victim.tmp', 'nested/victim.tmp', 'shared.tmp']) {
            expect(existsSync(path.join(outside, victim)), victim).toBe(true);
          }
        } finally {
          await ctx.close();
        }
      });

      it('maxFiles: the oldest first, the rest left for the next run', async () => {
        await file(path.join(root, 'a.bak'), 100, '5 days ago');
        await file(path.join(root, 'b.bak'), 100, '9 days ago');
        await file(path.join(root, 'c.bak'), 100, '7 days ago');
        const ctx = context();
        try {
          const result = await runStep(
            step,
            { host, root, patterns: ['*.bak'], olderThan: '1d', maxFiles: 2 },
            ctx,
          );
          expect(result.data).toMatchObject({
            bytesFreed: 200,
            files: [path.join(root, 'b.bak'), path.join(root, 'c.bak')],
            remaining: 1,
          });
          expect(result.summary).toMatch(/; 1 more matching files left for the next run \(maxFiles 2\)$/);
          expect(existsSync(path.join(root, 'a.bak'))).toBe(true);
        } finally {
          await ctx.close();
        }
      });

      it('a root that is a symlink out of the roots is refused on the host, after realpath', async () => {
        const ctx = context();
        try {
          const params = { host, root: path.join(root, 'escape'), patterns: ['*.tmp'], olderThan: '1d' };
          expect(refusal(step, params, ctx.runbook)).toBeUndefined();
          await expect(runStep(step, params, ctx)).rejects.toThrow(
            `${path.join(root, 'escape')} resolves to ${outside} on ${host}, outside the runbook's roots (${root}); a symlink leads out of the roots`,
          );
          expect(existsSync(path.join(outside, 'victim.tmp'))).toBe(true);
          const missing = await runStep(step, { ...params, root: path.join(root, 'nope') }, ctx);
          expect(missing).toMatchObject({ ok: true, data: { bytesFreed: 0 } });
        } finally {
          await ctx.close();
        }
      });
    },
  );
}
