import { type Finding, severityRank } from '../findings/finding.js';
import { conditionsOf, type Runbook } from './runbook.js';

/** What a runbook is matched against: an incident or a finding (both carry these fields). */
export type MatchSubject = Pick<Finding, 'check' | 'target' | 'condition' | 'severity'>;

/** Whether `runbook`'s `match` covers `subject` (its mode is the caller's business). */
export function matchesSubject(runbook: Runbook, subject: MatchSubject): boolean {
  const { match } = runbook;
  if (match.check !== subject.check) return false;
  if (!conditionsOf(match).includes(subject.condition)) return false;
  if (match.severity && severityRank(subject.severity) < severityRank(match.severity)) return false;
  if (match.target === undefined) return true;
  const globs = typeof match.target === 'string' ? [match.target] : match.target;
  return globs.some((g) => globToRegExp(g).test(subject.target));
}

/**
 * Orders matching runbooks, most specific first, so a site's runbook for `db-*` wins over the generic
 * one: first by target (an exact name, then globs with more literal text, then none), then by condition
 * (one condition before a list, a short list before a long one), then a severity floor before none,
 * then by id so the order never depends on file-system listing order.
 */
export function bySpecificity(a: Runbook, b: Runbook): number {
  const ka = specificity(a);
  const kb = specificity(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return kb[i]! - ka[i]!;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Higher is more specific, compared element by element. */
function specificity(runbook: Runbook): number[] {
  const { match } = runbook;
  const globs =
    match.target === undefined ? [] : typeof match.target === 'string' ? [match.target] : match.target;
  const exact = globs.length > 0 && globs.every((g) => !/[*?]/.test(g));
  // The least specific glob bounds how specific the whole list is.
  const literal = globs.length === 0 ? 0 : Math.min(...globs.map((g) => g.replace(/[*?]/g, '').length));
  const conditions = conditionsOf(match);
  return [
    globs.length === 0 ? 0 : exact ? 2 : 1,
    exact ? -globs.length : literal,
    typeof match.condition === 'string' ? 1 : 0,
    -conditions.length,
    match.severity ? severityRank(match.severity) : 0,
  ];
}

/** `*` matches any run of characters (`/` and `:` included: targets are `ns/pod`, `host:/mount`), `?` one. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}
