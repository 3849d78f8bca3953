import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memorySchema } from '../../src/config/memory-schema.js';
import { MemoryRepo } from '../../src/memory/memory-repo.js';
import { FakeClock } from '../helpers/fake-clock.js';

const gitOut = (args: string[]) => execFileSync('git', args, { encoding: 'utf8' });

describe('the memory repository, with real git', () => {
  let dir: string;
  const clock = new FakeClock('2026-11-28T03:00:00Z');

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'reef-memory-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const repo = (options: { remote?: string; memoryDir?: string } = {}) =>
    new MemoryRepo({
      dir: options.memoryDir ?? path.join(dir, 'memory'),
      quarantineDir: path.join(dir, 'quarantine'),
      config: memorySchema.parse(options.remote ? { remote: options.remote } : {}),
      clock,
    });

  it('creates the repository on first use and commits notes as Reef, once per change', async () => {
    const memory = repo();
    const note = '# Incident #7: http/api timeout — resolved\n\nAll good again.\n';
    const first = await memory.commit(
      [{ path: 'incidents/2026-11-28-7-http-api-timeout.md', content: note }],
      'Incident #7 resolved',
    );
    expect(first).toMatchObject({
      status: 'committed',
      files: ['incidents/2026-11-28-7-http-api-timeout.md'],
      scanner: 'embedded',
    });
    const repoDir = path.join(dir, 'memory');
    expect(readFileSync(path.join(repoDir, 'incidents/2026-11-28-7-http-api-timeout.md'), 'utf8')).toBe(note);
    const log = gitOut(['-C', repoDir, 'log', '--format=%an <%ae>|%s|%at']).trim().split('\n');
    expect(log).toEqual([
      `Reef <reef@localhost>|Incident #7 resolved|${Date.parse('2026-11-28T03:00:00Z') / 1000}`,
      `Reef <reef@localhost>|Reef memory|${Date.parse('2026-11-28T03:00:00Z') / 1000}`,
    ]);
    expect(gitOut(['-C', repoDir, 'status', '--porcelain'])).toBe('');
    expect(gitOut(['-C', repoDir, 'rev-parse', '--abbrev-ref', 'HEAD']).trim()).toBe('main');

    // The same content again: nothing to commit.
    expect(
      await memory.commit([{ path: 'incidents/2026-11-28-7-http-api-timeout.md', content: note }], 'again'),
    ).toEqual({
      status: 'unchanged',
      files: ['incidents/2026-11-28-7-http-api-timeout.md'],
    });
    expect(gitOut(['-C', repoDir, 'rev-list', '--count', 'HEAD']).trim()).toBe('2');

    // A second process (a new MemoryRepo on the same folder) recognises Reef's repository.
    const reopened = await repo().commit(
      [{ path: 'brainstorm/2026-11-28.md', content: '# Nightly Brainstorm\n' }],
      'report',
    );
    expect(reopened.status).toBe('committed');
    const index = await repo().refreshIndex();
    expect(index.status).toBe('committed');
    const text = readFileSync(path.join(repoDir, 'index.md'), 'utf8');
    expect(text).toContain('- [2026-11-28](brainstorm/2026-11-28.md)');
    expect(text).toContain(
      '- [Incident #7: http/api timeout — resolved](incidents/2026-11-28-7-http-api-timeout.md)',
    );
  });

  it('refuses a folder that is not its own, with what to do', async () => {
    const foreign = path.join(dir, 'project');
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, 'README.md'), 'mine\n');
    await expect(
      repo({ memoryDir: foreign }).commit([{ path: 'a.md', content: 'x\n' }], 'x'),
    ).rejects.toMatchObject({
      code: 'reef_memory_failed',
      message: expect.stringContaining('is not empty and not Reef'),
      hint: expect.stringContaining('new or empty folder'),
    });
    execFileSync('git', ['init', '-q', foreign]);
    await expect(
      repo({ memoryDir: foreign }).commit([{ path: 'a.md', content: 'x\n' }], 'x'),
    ).rejects.toMatchObject({
      code: 'reef_memory_failed',
      message: expect.stringContaining('git repository Reef did not create'),
      hint: expect.stringContaining('config reef.memory true'),
    });
    expect(readFileSync(path.join(foreign, 'README.md'), 'utf8')).toBe('mine\n');
  });

  it('refuses paths outside the repository', async () => {
    for (const bad of ['../escape.md', '/etc/passwd', '.git/config', 'a//b.md', 'a\\b.md']) {
      await expect(repo().commit([{ path: bad, content: 'x' }], 'x')).rejects.toMatchObject({
        code: 'reef_memory_failed',
      });
    }
  });

  it('pushes every commit to a remote (a local bare repository), and keeps the commit when the push fails', async () => {
    const bare = path.join(dir, 'remote.git');
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    const memory = repo({ remote: bare });
    const result = await memory.commit(
      [{ path: 'brainstorm/2026-11-28.md', content: '# report\n' }],
      'report',
    );
    expect(result).toMatchObject({ status: 'committed', pushed: true });
    expect(gitOut(['--git-dir', bare, 'log', '--format=%s', 'main']).trim().split('\n')).toEqual([
      'report',
      'Reef memory',
    ]);
    expect(gitOut(['--git-dir', bare, 'show', 'main:brainstorm/2026-11-28.md'])).toBe('# report\n');

    rmSync(bare, { recursive: true, force: true });
    const local = await memory.commit([{ path: 'brainstorm/2026-11-29.md', content: '# next\n' }], 'next');
    expect(local).toMatchObject({
      status: 'committed',
      pushed: false,
      pushError: expect.stringContaining('git push failed'),
    });
    expect(gitOut(['-C', path.join(dir, 'memory'), 'log', '-1', '--format=%s']).trim()).toBe('next');
  });
});
