/**
 * The shape of one secret-detection rule, shared by synchronous redaction (`redact.ts`) and the
 * commit-guard scan (`scan.ts`), so chat, the LLM, the audit log and the memory repo all apply one
 * rule set. A rule is a compiled regular expression (global flag) plus an optional check on the
 * captured value; `group` names the capture that is the secret (the whole match when absent), so a
 * `password=` pair keeps its key and loses only its value.
 */
export interface SecretRule {
  /** Stable, kebab-case; shown as `[REDACTED:<id>]` and as `reef/<id>` in scan hits. */
  id: string;
  /** What was found, for a scan message (never includes the value). */
  description: string;
  /** Must carry the `g` and `d` flags (global, with capture indices). */
  pattern: RegExp;
  /** Index of the capture group holding the secret; the whole match when absent. */
  group?: number;
  /**
   * Whether the captured value really is a secret. `strict` is set by the commit-guard scan, which
   * refuses a commit on a hit and so must not fire on prose; redaction passes `false` and errs on
   * the side of hiding.
   */
  accept?: (value: string, strict: boolean, match: RegExpExecArray) => boolean;
  /** Where the pattern comes from, so it can be re-synced with its upstream. */
  origin: 'gitleaks' | 'secretlint' | 'reef';
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Values that stand for a secret without being one: templates, masks and earlier redactions. */
const PLACEHOLDER =
  /^(?:\$\{[^}]*\}|\$\([^)]*\)|\{\{[^}]*\}\}|%[A-Z_]+%|\$[A-Z_][A-Z0-9_]*|<[^>]*>|\[REDACTED[^\]]*\]?|\[redacted\]|\*+|x{3,}|X{3,}|\.{3}|…|null|nil|none|undefined|true|false|changeme|redacted|hidden|masked|required|optional|string|example|your[-_a-z]*|\*\*\*.*)$/i;

export function isPlaceholder(value: string): boolean {
  return value.length === 0 || PLACEHOLDER.test(value);
}

/**
 * A value that looks like a real credential rather than prose: at least 6 characters, not a
 * placeholder, and not a single lower-case word (`password: rotated` is a sentence, not a secret).
 */
export function looksLikeSecretValue(value: string): boolean {
  if (value.length < 6 || isPlaceholder(value)) return false;
  if (/^[a-z]+$/.test(value) || /^[A-Z][a-z]+$/.test(value)) return false;
  if (/^(.)\1+$/.test(value)) return false;
  return true;
}
