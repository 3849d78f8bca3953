import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { errorMessage, ReefError } from '../errors.js';
import type { StepExecutor } from '../executors/executor.js';
import { EXECUTORS } from '../executors/registry.js';
import { bySpecificity, type MatchSubject, matchesSubject } from './match.js';
import { type ParsedRunbook, parseRunbook } from './parse-runbook.js';
import { ESCALATE, formatProblem, type Runbook, type RunbookProblem } from './runbook.js';

/**
 * The runbooks of one folder. Only runbooks without errors are in it: a runbook that does not lint
 * never matches anything, so a typo can never turn into an action.
 */
export class Catalog {
  constructor(
    /** Absolute path of the folder. */
    readonly dir: string,
    readonly runbooks: readonly Runbook[],
    /** Problems that kept a runbook out (or affect the whole folder). */
    readonly errors: readonly RunbookProblem[],
    readonly warnings: readonly RunbookProblem[],
    /** Files read (README.md excluded). */
    readonly files: readonly string[],
  ) {}

  /**
   * Throws `reef_runbook_invalid` listing every error (`file:line: field: message`) when any runbook
   * failed to load: for processes that must not start with a half-loaded catalog.
   */
  requireValid(cwd = process.cwd()): this {
    if (this.errors.length === 0) return this;
    const files = new Set(this.errors.map((p) => p.file)).size;
    throw new ReefError(
      'reef_runbook_invalid',
      `${this.errors.length} runbook error${this.errors.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'} under ${this.dir}`,
      {
        details: this.errors.map((p) => formatProblem(p, cwd)),
        hint: 'Fix each line listed (`reef runbooks lint` checks again); a runbook with errors never runs.',
      },
    );
  }

  get(id: string): Runbook | undefined {
    return this.runbooks.find((r) => r.id === id);
  }

  /**
   * The runbooks whose `match` covers an incident or finding, most specific first (see `bySpecificity`).
   * Runbooks in mode `off` are left out unless asked for: they must not even be proposed.
   */
  match(subject: MatchSubject, options: { includeOff?: boolean } = {}): Runbook[] {
    return this.runbooks
      .filter((r) => (options.includeOff || r.mode !== 'off') && matchesSubject(r, subject))
      .sort(bySpecificity);
  }
}

/**
 * Loads every `*.md` file of `dir` (not recursive; README.md is the folder's documentation, not a
 * runbook) and checks what spans files: ids are unique, alternatives name runbooks that loaded.
 * Throws only when the folder itself cannot be read.
 */
export function loadCatalog(
  dir: string,
  options: { executors?: Readonly<Record<string, StepExecutor<unknown>>> } = {},
): Catalog {
  const executors = options.executors ?? EXECUTORS;
  const folder = path.resolve(dir);
  let names: string[];
  try {
    if (!statSync(folder).isDirectory()) throw new Error('not a directory');
    names = readdirSync(folder)
      .filter((n) => n.endsWith('.md') && n.toLowerCase() !== 'readme.md')
      .sort();
  } catch (error) {
    throw new ReefError(
      'reef_runbooks_not_found',
      `Cannot read the runbooks folder ${folder}: ${errorMessage(error)}`,
      {
        hint: 'Set runbooks.dir in reef.yaml (relative to the config file) or pass --dir, pointing at a folder of runbook .md files.',
      },
    );
  }
  const files = names.map((n) => path.join(folder, n));
  const problems: RunbookProblem[] = [];
  const loaded: Runbook[] = [];
  const ids = new Map<string, { file: string; line: number }[]>();
  const lines = new Map<Runbook, ParsedRunbook['lineOf']>();
  for (const file of files) {
    const result = parseRunbook(readFileSync(file, 'utf8'), file, executors);
    problems.push(...result.problems);
    if (result.runbook) {
      loaded.push(result.runbook);
      lines.set(result.runbook, result.lineOf);
    }
    if (result.id !== undefined)
      ids.set(result.id, [...(ids.get(result.id) ?? []), { file, line: result.lineOf(['id']) }]);
  }
  // A duplicate id is ambiguous whichever file wins: neither loads, and each error names the other.
  const duplicates = new Set<string>();
  for (const [id, places] of ids) {
    if (places.length < 2) continue;
    duplicates.add(id);
    for (const place of places) {
      const others = places.filter((p) => p !== place).map((p) => `${path.basename(p.file)}:${p.line}`);
      problems.push({
        severity: 'error',
        file: place.file,
        line: place.line,
        path: 'id',
        message: `"${id}" is also the id of ${others.join(', ')}: ids must be unique across the folder`,
      });
    }
  }
  let runbooks = loaded.filter((r) => !duplicates.has(r.id));
  runbooks = dropBrokenAlternatives(runbooks, ids, problems, (r, at) => lines.get(r)?.(at) ?? 1);
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning');
  const order = (a: RunbookProblem, b: RunbookProblem) => a.file.localeCompare(b.file) || a.line - b.line;
  return new Catalog(folder, runbooks, errors.sort(order), warnings.sort(order), files);
}

/** An alternative must be a runbook that loaded (or `escalate`); a runbook naming another is refused. */
function dropBrokenAlternatives(
  runbooks: Runbook[],
  ids: ReadonlyMap<string, unknown>,
  problems: RunbookProblem[],
  lineOf: (runbook: Runbook, at: PropertyKey[]) => number,
): Runbook[] {
  const loaded = new Set(runbooks.map((r) => r.id));
  return runbooks.filter((runbook) => {
    let ok = true;
    runbook.alternatives.forEach((alt, i) => {
      if (alt === ESCALATE || loaded.has(alt)) return;
      ok = false;
      problems.push({
        severity: 'error',
        file: runbook.file,
        line: lineOf(runbook, ['alternatives', i]),
        path: `alternatives[${i}]`,
        message: ids.has(alt)
          ? `"${alt}" did not load (see its errors)`
          : `no runbook has id "${alt}" (known: ${[...loaded].sort().join(', ') || 'none'}, or "escalate")`,
      });
    });
    return ok;
  });
}
