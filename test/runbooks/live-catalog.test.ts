import { mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveCatalog } from '../../src/runbooks/live-catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../src/runbooks/location.js';

describe('runbooks reload while Reef runs', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function setUp() {
    const dir = mkdtempSync(path.join(tmpdir(), 'reef-live-runbooks-'));
    dirs.push(dir);
    const original = readFileSync(path.join(BUNDLED_RUNBOOKS_DIR, 'pod-restart.md'), 'utf8');
    const file = path.join(dir, 'pod-restart.md');
    writeFileSync(file, original);
    let now = 1_000_000;
    const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
    const live = new LiveCatalog(
      dir,
      (level, message, fields) => logs.push({ level, message, fields }),
      5000,
      () => now,
    );
    /** Rewrites a file with a distinct mtime, as an editor would. */
    const write = (name: string, text: string) => {
      const target = path.join(dir, name);
      writeFileSync(target, text);
      const t = new Date(now + 60_000);
      utimesSync(target, t, t);
    };
    return { dir, file, original, live, logs, write, advance: (ms: number) => (now += ms) };
  }

  it('a runbook promoted to auto is used after the next look, without a restart', () => {
    const { original, live, logs, write, advance } = setUp();
    expect(live.current().get('pod-restart')?.mode).toBe('approve');
    write('pod-restart.md', original.replace('mode: approve', 'mode: auto'));
    // Looked at most every 5 s: the same catalog until then.
    advance(1000);
    expect(live.current().get('pod-restart')?.mode).toBe('approve');
    advance(5000);
    expect(live.current().get('pod-restart')?.mode).toBe('auto');
    expect(logs.at(-1)).toMatchObject({
      level: 'info',
      message: 'runbooks reloaded',
      fields: { changed: ['pod-restart'] },
    });
    // Nothing changed since: no reload, no log.
    const count = logs.length;
    advance(6000);
    live.current();
    expect(logs).toHaveLength(count);
  });

  it('a broken edit keeps the runbook out (it never runs) and says so; the others stay', () => {
    const { original, live, logs, write, advance } = setUp();
    write(
      'disk-cleanup.md',
      readFileSync(path.join(BUNDLED_RUNBOOKS_DIR, 'disk-cleanup.md'), 'utf8').replace(
        'alternatives: [log-rotation, escalate]',
        'alternatives: [escalate]',
      ),
    );
    advance(6000);
    expect(
      live
        .current()
        .runbooks.map((r) => r.id)
        .sort(),
    ).toEqual(['disk-cleanup', 'pod-restart']);
    write('pod-restart.md', original.replace('verify: { after: 2m }', 'verfy: { after: 2m }'));
    advance(6000);
    expect(live.current().runbooks.map((r) => r.id)).toEqual(['disk-cleanup']);
    expect(logs.some((l) => l.level === 'warn' && /did not load/.test(l.message))).toBe(true);
  });

  it('a folder that disappears keeps what loaded before', () => {
    const { dir, live, logs, advance } = setUp();
    renameSync(dir, `${dir}-gone`);
    dirs.push(`${dir}-gone`);
    advance(6000);
    expect(live.current().get('pod-restart')).toBeDefined();
    expect(logs.at(-1)).toMatchObject({
      level: 'warn',
      message: /cannot be read: keeping the runbooks loaded before/,
    });
  });
});
