import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { Catalog, loadCatalog } from './catalog.js';

/**
 * The runbooks a long-running process acts on, kept current: an operator who edits, adds or removes a
 * runbook (or promotes one from `approve` to `auto`) should not have to restart every worker and bot.
 * `current()` looks at the folder at most every `intervalMs` (the names, sizes and modification times
 * of its `.md` files, a few `stat` calls) and reloads only when that changed. As at start-up, runbooks
 * with errors stay out (and are logged), the others are used; an unreadable folder keeps what loaded
 * before rather than dropping every runbook at once.
 */
export class LiveCatalog {
  private catalog: Catalog;
  private signature: string;
  private checkedAt: number;

  constructor(
    private readonly dir: string,
    private readonly log: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void,
    private readonly intervalMs = 5000,
    private readonly now: () => number = Date.now,
  ) {
    this.signature = signatureOf(dir);
    this.catalog = this.load(true);
    this.checkedAt = this.now();
  }

  current(): Catalog {
    if (this.now() - this.checkedAt < this.intervalMs) return this.catalog;
    this.checkedAt = this.now();
    const signature = signatureOf(this.dir);
    if (signature === this.signature) return this.catalog;
    this.signature = signature;
    const before = new Map(this.catalog.runbooks.map((r) => [r.id, r.mode]));
    const previous = this.catalog;
    this.catalog = this.load(false);
    if (this.catalog === previous) return this.catalog;
    const after = this.catalog.runbooks.map((r) => `${r.id} (${r.mode})`);
    const changed = this.catalog.runbooks.filter((r) => before.get(r.id) !== r.mode).map((r) => r.id);
    this.log('info', 'runbooks reloaded', { dir: this.dir, runbooks: after, changed });
    return this.catalog;
  }

  private load(first: boolean): Catalog {
    try {
      const catalog = loadCatalog(this.dir);
      if (catalog.errors.length > 0)
        this.log('warn', 'some runbooks did not load; see `reef runbooks lint`', {
          errors: catalog.errors.length,
          dir: catalog.dir,
        });
      return catalog;
    } catch (error) {
      if (!first) {
        this.log('warn', 'the runbooks folder cannot be read: keeping the runbooks loaded before', {
          err: errorMessage(error),
        });
        return this.catalog;
      }
      this.log('warn', 'no runbooks loaded: every incident escalates', { err: errorMessage(error) });
      return new Catalog('', [], [], [], []);
    }
  }
}

/** What changes when a runbook is edited, added or removed: each `.md` file's name, size and mtime. */
function signatureOf(dir: string): string {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => {
        const s = statSync(path.join(dir, name));
        return `${name}:${s.size}:${s.mtimeMs}`;
      })
      .join('|');
  } catch (error) {
    return `unreadable:${errorMessage(error)}`;
  }
}
