import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Clock } from '../adapters/clock.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { MemoryConfig } from '../config/memory-schema.js';
import { errorMessage, ReefError } from '../errors.js';
import { git } from './git.js';
import { renderIndex } from './memory-index.js';
import type { NoticeBus } from './notices.js';
import { quarantine } from './quarantine.js';
import {
  chooseScanner,
  embeddedScanner,
  type ScanHit,
  type ScannerName,
  type StagedFile,
} from './secret-scanners.js';
import { WriterLock } from './writer-lock.js';

/**
 * Reef's memory: a git repository Reef creates and owns (incident notes, Brainstorm reports, an
 * index). Every commit is secret-scanned first, on a private copy outside the repository; a hit blocks
 * the whole commit (nothing of it is written), quarantines each offending file redacted, raises an
 * alert and is audited. Writers on several processes take a Redis lock, so git never sees two at once.
 */

export interface MemoryRepoOptions {
  dir: string;
  config: MemoryConfig;
  /** Outside the repository; default `<dir>/../quarantine`. */
  quarantineDir: string;
  clock: Clock;
  /** PATH (for git and the scanners) and git's environment. */
  env?: NodeJS.ProcessEnv;
  audit?: AuditLog;
  notices?: NoticeBus;
  /** A Redis lock shared by every process writing this repository. */
  lock?: { redis: Redis; key: string };
  /** Warnings: a scanner that fell back, a failed push. */
  warn?: (message: string) => void;
}

export type CommitResult =
  | {
      status: 'committed';
      commit: string;
      files: string[];
      scanner: ScannerName;
      /** Set when a remote is configured and the push failed (the commit stays local until the next push). */
      pushError?: string;
      pushed?: boolean;
    }
  | { status: 'unchanged'; files: string[] }
  | {
      status: 'blocked';
      scanner: ScannerName;
      /** What was found, never the values. */
      hits: { file: string; ruleId: string; message: string; line: number }[];
      /** Redacted copies, outside the repository. */
      quarantined: string[];
      /** Clean files of the same commit, not written either (a commit is all or nothing). */
      heldBack: string[];
    };

const MARKER_KEY = 'reef.memory';

export class MemoryRepo {
  private ready = false;
  private readonly lock: WriterLock;

  constructor(private readonly options: MemoryRepoOptions) {
    this.lock = new WriterLock(options.lock);
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Creates the repository on first use; refuses a folder that is someone else's. */
  async ensure(): Promise<void> {
    if (this.ready) return;
    const { dir, config } = this.options;
    const run = (args: string[]) => git(args, this.gitOptions());
    if (existsSync(path.join(dir, '.git'))) {
      const marked = await run(['config', '--local', '--get', MARKER_KEY]).then(
        (r) => r.stdout.trim() === 'true',
        () => false,
      );
      if (!marked) {
        throw new ReefError(
          'reef_memory_failed',
          `memoryDir ${dir} is a git repository Reef did not create`,
          {
            hint: `Point memoryDir at a new or empty folder (Reef creates and owns it). If it is a clone of Reef's memory, run \`git -C ${dir} config ${MARKER_KEY} true\`.`,
          },
        );
      }
    } else {
      const entries = existsSync(dir) ? await readdir(dir) : [];
      if (entries.length > 0) {
        throw new ReefError(
          'reef_memory_failed',
          `memoryDir ${dir} is not empty and not Reef's memory repository`,
          {
            hint: 'Point memoryDir at a new or empty folder: Reef creates the git repository there itself.',
          },
        );
      }
      await mkdir(dir, { recursive: true });
      await run(['init', '-q', '-b', config.branch]);
      await run(['config', '--local', MARKER_KEY, 'true']);
      await writeFile(path.join(dir, 'index.md'), renderIndex([], []));
      await run(['add', '--', 'index.md']);
      await git(['commit', '-q', '-m', 'Reef memory'], this.gitOptions(this.options.clock.now()));
    }
    if (config.remote) {
      const remotes = (await run(['remote'])).stdout.split('\n').map((r) => r.trim());
      await run(
        remotes.includes('origin')
          ? ['remote', 'set-url', 'origin', config.remote]
          : ['remote', 'add', 'origin', config.remote],
      );
    }
    this.ready = true;
  }

  /**
   * Writes and commits files (`path` relative to the repository), after the secret scan. Files whose
   * content is already there are left out; with nothing left, nothing is committed.
   */
  async commit(files: readonly StagedFile[], message: string): Promise<CommitResult> {
    for (const f of files) checkPath(f.path);
    return this.lock.run(async () => {
      await this.ensure();
      const changed: StagedFile[] = [];
      for (const f of files) {
        const current = await readFile(path.join(this.dir, f.path), 'utf8').catch(() => undefined);
        if (current !== f.content) changed.push(f);
      }
      if (changed.length === 0) return { status: 'unchanged', files: files.map((f) => f.path) };
      const { scanner, hits } = await this.scan(changed);
      if (hits.length > 0) return this.block(changed, hits, scanner);
      for (const f of changed) {
        await mkdir(path.dirname(path.join(this.dir, f.path)), { recursive: true });
        await writeFile(path.join(this.dir, f.path), f.content);
      }
      const paths = changed.map((f) => f.path);
      const at = this.options.clock.now();
      await git(['add', '--', ...paths], this.gitOptions());
      await git(['commit', '-q', '-m', message, '--', ...paths], this.gitOptions(at));
      const commit = (await git(['rev-parse', 'HEAD'], this.gitOptions())).stdout.trim();
      const result: CommitResult = { status: 'committed', commit, files: paths, scanner };
      if (this.options.config.remote) {
        try {
          await git(
            ['push', '-q', 'origin', `HEAD:refs/heads/${this.options.config.branch}`],
            this.gitOptions(),
          );
          result.pushed = true;
        } catch (error) {
          result.pushed = false;
          result.pushError = errorMessage(error);
          this.options.warn?.(
            `memory commit ${commit.slice(0, 8)} is local only: push failed (${result.pushError})`,
          );
        }
      }
      return result;
    });
  }

  /** Rewrites `index.md` from the reports and notes in the repository, and commits it if it changed. */
  async refreshIndex(): Promise<CommitResult> {
    await this.ensure();
    const list = async (sub: string) =>
      (await readdir(path.join(this.dir, sub)).catch(() => [] as string[]))
        .filter((f) => f.endsWith('.md'))
        .sort();
    const reports = (await list('brainstorm')).map((f) => `brainstorm/${f}`);
    const notes = await Promise.all(
      (await list('incidents')).sort(byDateAndId).map(async (f) => {
        const text = await readFile(path.join(this.dir, 'incidents', f), 'utf8');
        return { path: `incidents/${f}`, title: /^# (.+)$/m.exec(text)?.[1] ?? f };
      }),
    );
    return this.commit([{ path: 'index.md', content: renderIndex(reports, notes) }], 'Update the index');
  }

  async read(file: string): Promise<string | undefined> {
    checkPath(file);
    return readFile(path.join(this.dir, file), 'utf8').catch(() => undefined);
  }

  private async scan(files: readonly StagedFile[]): Promise<{ scanner: ScannerName; hits: ScanHit[] }> {
    const env = this.options.env ?? process.env;
    const chosen = chooseScanner(this.options.config.scanner, env);
    if (chosen.note) this.options.warn?.(chosen.note);
    const stage = await mkdtemp(path.join(tmpdir(), 'reef-memory-stage-'));
    try {
      for (const f of files) {
        await mkdir(path.dirname(path.join(stage, f.path)), { recursive: true });
        await writeFile(path.join(stage, f.path), f.content, { mode: 0o600 });
      }
      let scanner = chosen.scanner;
      let hits: ScanHit[];
      try {
        hits = await scanner.scan(stage, files);
      } catch (error) {
        // A scanner that breaks must not let a commit through unscanned: the embedded one takes over.
        this.options.warn?.(
          `${scanner.name} failed (${errorMessage(error)}); the embedded scanner guards this commit`,
        );
        scanner = embeddedScanner;
        hits = await scanner.scan(stage, files);
      }
      const known = new Set(files.map((f) => f.path));
      // A hit on a path the scanner made up blames every file: better held back than leaked.
      const attributed = hits.flatMap((h) =>
        known.has(h.file) ? [h] : files.map((f) => ({ ...h, file: f.path })),
      );
      return { scanner: scanner.name, hits: attributed };
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  }

  private async block(
    files: readonly StagedFile[],
    hits: readonly ScanHit[],
    scanner: ScannerName,
  ): Promise<CommitResult> {
    const at = this.options.clock.now();
    const quarantined: string[] = [];
    const offending = files.filter((f) => hits.some((h) => h.file === f.path));
    for (const f of offending) {
      const own = hits.filter((h) => h.file === f.path);
      const where = await quarantine(this.options.quarantineDir, f.path, f.content, own, at);
      quarantined.push(where);
      const kinds = [...new Set(own.map((h) => `${h.message}${h.line > 0 ? ` (line ${h.line})` : ''}`))].join(
        '; ',
      );
      const text = `Memory commit blocked: ${f.path} held ${own.length === 1 ? 'a secret' : `${own.length} secrets`} — ${kinds} (scanner: ${scanner}). Nothing was committed; a redacted copy is at ${where}. Find what put the credential there (a log line, a fact, a URL) and rotate it if it was real.`;
      await this.options.audit?.record({
        actor: 'reef',
        action: 'memory-commit-blocked',
        target: `memory/${f.path}`,
        why: text,
        details: {
          scanner,
          file: f.path,
          findings: own.map((h) => ({ rule: h.ruleId, line: h.line })),
          quarantined: where,
        },
      });
      await this.options.notices?.publish({ kind: 'alert', text, at: at.toISOString() });
      this.options.warn?.(text);
    }
    return {
      status: 'blocked',
      scanner,
      hits: hits.map((h) => ({ file: h.file, ruleId: h.ruleId, message: h.message, line: h.line })),
      quarantined,
      heldBack: files.filter((f) => !offending.includes(f)).map((f) => f.path),
    };
  }

  private gitOptions(date?: Date) {
    return {
      cwd: this.dir,
      ...(this.options.env ? { env: this.options.env } : {}),
      ...(date ? { date } : {}),
    };
  }
}

/** Incident note names start `YYYY-MM-DD-<id>-`: by date, then by incident number. */
function byDateAndId(a: string, b: string): number {
  const key = (f: string) => /^(\d{4}-\d{2}-\d{2})-(\d+)-/.exec(f);
  const ka = key(a);
  const kb = key(b);
  if (!ka || !kb) return a.localeCompare(b);
  return ka[1]!.localeCompare(kb[1]!) || Number(ka[2]) - Number(kb[2]);
}

/** A repository path Reef may write: relative, `/`-separated, inside the repository, not in `.git`. */
function checkPath(file: string): void {
  const parts = file.split('/');
  if (
    file === '' ||
    path.isAbsolute(file) ||
    file.includes('\\') ||
    parts.some((p) => p === '' || p === '.' || p === '..') ||
    parts[0] === '.git'
  ) {
    throw new ReefError('reef_memory_failed', `"${file}" is not a path inside the memory repository`, {
      hint: 'Memory paths are relative, use "/", and stay inside the repository (no "..", not under .git).',
    });
  }
}
