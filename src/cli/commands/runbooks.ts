import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { type Catalog, loadCatalog } from '../../runbooks/catalog.js';
import { runbooksDirOf } from '../../runbooks/location.js';
import { conditionsOf, formatProblem, type Runbook, type RunbookProblem } from '../../runbooks/runbook.js';
import { colors, table } from '../../surfaces/format.js';
import { type CliIo, print } from '../io.js';

export interface RunbooksOptions {
  dir?: string;
  config?: string;
}

/** `--dir` (relative to the shell's folder) wins; else the config's `runbooks.dir`. */
function catalogFor(options: RunbooksOptions, io: CliIo): Catalog {
  const dir = options.dir
    ? path.resolve(io.cwd, options.dir)
    : runbooksDirOf(loadConfig(options.config, io.env, io.cwd), io.env);
  return loadCatalog(dir);
}

function shown(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * `reef runbooks lint`: every problem of every runbook as `file:line: field: message`, then a summary.
 * Exit 1 on any error (warnings alone pass), so CI can gate runbook changes.
 */
export function runbooksLintCommand(options: RunbooksOptions, io: CliIo): number {
  const catalog = catalogFor(options, io);
  const c = colors(io.color);
  const problems = [...catalog.errors, ...catalog.warnings].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line,
  );
  for (const p of problems) {
    const line = formatProblem(p, io.cwd);
    print(io.out, p.severity === 'error' ? line : c.yellow(line));
  }
  const where = shown(catalog.dir, io.cwd);
  const files = plural(catalog.files.length, 'runbook file');
  if (catalog.errors.length > 0) {
    const broken = new Set(catalog.errors.map((p) => p.file)).size;
    print(
      io.out,
      `${c.red('✗')} ${where}: ${plural(catalog.errors.length, 'error')}, ${plural(catalog.warnings.length, 'warning')} in ${files}; ${broken} did not load. A runbook with errors never runs: fix each line above.`,
    );
    return 1;
  }
  print(
    io.out,
    `${c.green('✓')} ${where}: ${files}, ${plural(catalog.runbooks.length, 'runbook')} loaded` +
      (catalog.warnings.length > 0 ? `, ${plural(catalog.warnings.length, 'warning')}` : ', no problems') +
      (catalog.runbooks.length > 0 ? ` (${catalog.runbooks.map((r) => r.id).join(', ')})` : ''),
  );
  return 0;
}

/** What a runbook matches, in one line: `pods CrashLoopBackOff|OOMKilled target=default/* severity≥critical`. */
export function describeMatch(runbook: Runbook): string {
  const { match } = runbook;
  const parts = [`${match.check} ${conditionsOf(match).join('|')}`];
  if (match.target !== undefined)
    parts.push(`target=${typeof match.target === 'string' ? match.target : match.target.join(',')}`);
  if (match.severity) parts.push(`severity≥${match.severity}`);
  return parts.join(' ');
}

/** `files.cleanup ×4, wait`: step types in order, repeats folded. */
function stepTypes(runbook: Runbook): string {
  const runs: { type: string; count: number }[] = [];
  for (const { type } of runbook.steps) {
    const last = runs.at(-1);
    if (last?.type === type) last.count++;
    else runs.push({ type, count: 1 });
  }
  return runs.map((r) => (r.count > 1 ? `${r.type} ×${r.count}` : r.type)).join(', ');
}

/**
 * `reef runbooks list [--json]`: the runbooks that load, with what they match and the steps they take.
 * Runbooks with errors are not listed (they cannot run); their count is reported and the exit code is 1.
 */
export function runbooksListCommand(options: RunbooksOptions & { json?: boolean }, io: CliIo): number {
  const catalog = catalogFor(options, io);
  const code = catalog.errors.length > 0 ? 1 : 0;
  if (options.json) {
    const problem = (p: RunbookProblem) => ({
      severity: p.severity,
      file: p.file,
      line: p.line,
      path: p.path,
      message: p.message,
    });
    print(
      io.out,
      JSON.stringify({
        dir: catalog.dir,
        runbooks: catalog.runbooks.map((r) => ({
          id: r.id,
          title: r.title,
          mode: r.mode,
          risk: r.risk,
          approvalsRequired: r.approvalsRequired,
          match: r.match,
          steps: r.steps.map((s) => s.type),
          file: r.file,
        })),
        errors: catalog.errors.map(problem),
        warnings: catalog.warnings.map(problem),
      }),
    );
    return code;
  }
  if (catalog.runbooks.length === 0) print(io.out, `No runbooks load from ${shown(catalog.dir, io.cwd)}.`);
  else {
    print(
      io.out,
      table(
        ['ID', 'MODE', 'RISK', 'MATCH', 'STEPS', 'FILE'],
        catalog.runbooks.map((r) => [
          r.id,
          r.mode,
          r.risk,
          describeMatch(r),
          stepTypes(r),
          shown(r.file, io.cwd),
        ]),
      ),
    );
  }
  if (code !== 0) {
    const broken = new Set(catalog.errors.map((p) => p.file)).size;
    print(
      io.err,
      `${plural(broken, 'runbook file')} did not load (${plural(catalog.errors.length, 'error')}): run \`reef runbooks lint\` to see them.`,
    );
  }
  return code;
}
