import { SECRET_RULES } from './rules.js';
import { isPlaceholder, type SecretRule } from './secret-rule.js';

/** One secret found in a text: the rule and the half-open character range of the value. */
export interface SecretMatch {
  rule: SecretRule;
  start: number;
  end: number;
}

/** Texts longer than this are cut for matching; a chat message or prompt block is far smaller. */
const MAX_SCAN_CHARS = 4_000_000;

/** The captured value's range, without the quotes a `key: "value"` form puts around it. */
function valueRange(match: RegExpExecArray, group: number | undefined): [number, number] | undefined {
  const range = group === undefined ? match.indices?.[0] : match.indices?.[group];
  if (range === undefined) return undefined;
  let [start, end] = range;
  const first = match.input[start];
  if ((first === '"' || first === "'") && end - start >= 2 && match.input[end - 1] === first) {
    start += 1;
    end -= 1;
  }
  return [start, end];
}

/**
 * Every secret in `text`, as non-overlapping ranges sorted by start (overlapping hits are merged
 * under the first rule's id). `strict` is the commit-guard mode: fewer hits on prose.
 */
export function findSecrets(
  text: string,
  strict: boolean,
  rules: readonly SecretRule[] = SECRET_RULES,
): SecretMatch[] {
  const input = text.length > MAX_SCAN_CHARS ? text.slice(0, MAX_SCAN_CHARS) : text;
  const hits: SecretMatch[] = [];
  for (const rule of rules) {
    const pattern = rule.pattern;
    pattern.lastIndex = 0;
    for (let match = pattern.exec(input); match !== null; match = pattern.exec(input)) {
      if (match[0].length === 0) pattern.lastIndex += 1;
      const range = valueRange(match, rule.group);
      if (range === undefined || range[1] <= range[0]) continue;
      const value = input.slice(range[0], range[1]);
      if (isPlaceholder(value) || value.includes('[REDACTED:')) continue;
      if (rule.accept && !rule.accept(value, strict, match)) continue;
      hits.push({ rule, start: range[0], end: range[1] });
    }
  }
  hits.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: SecretMatch[] = [];
  for (const hit of hits) {
    const last = merged.at(-1);
    if (last && hit.start < last.end) last.end = Math.max(last.end, hit.end);
    else merged.push({ ...hit });
  }
  if (text.length > MAX_SCAN_CHARS)
    merged.push({ rule: OVERSIZE_RULE, start: MAX_SCAN_CHARS, end: text.length });
  return merged;
}

/** What lies past `MAX_SCAN_CHARS` was not scanned, so it is treated as secret rather than trusted. */
const OVERSIZE_RULE: SecretRule = {
  id: 'unscanned',
  description: 'text past the scanning limit',
  pattern: /$^/dg,
  origin: 'reef',
};
