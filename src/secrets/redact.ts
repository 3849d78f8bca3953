import { isCredentialKey } from './credential-keys.js';
import { findSecrets } from './find.js';
import { isPlaceholder } from './secret-rule.js';

/**
 * Redaction before anything leaves the process: the LLM prompt, every chat post, the audit log.
 * Synchronous, so it fits in a formatter or a logger hook; it runs the same rules as the commit-guard
 * scan (`SECRET_RULES`), in the lenient mode that prefers hiding a non-secret to leaking a secret.
 * Idempotent: redacting twice changes nothing more.
 */

/** The marker left where a secret was, e.g. `[REDACTED:aws-access-key]`. */
export function redactionMarker(ruleId: string): string {
  return `[REDACTED:${ruleId}]`;
}

/** Every secret in `text` replaced by `[REDACTED:<rule id>]`; everything else kept as it was. */
export function redactText(text: string): string {
  const hits = findSecrets(text, false);
  if (hits.length === 0) return text;
  let out = '';
  let at = 0;
  for (const hit of hits) {
    out += text.slice(at, hit.start) + redactionMarker(hit.rule.id);
    at = hit.end;
  }
  return out + text.slice(at);
}

const CREDENTIAL_MARKER = redactionMarker('credential');
const MAX_DEPTH = 32;

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function walk(value: unknown, underCredential: boolean, depth: number, seen: Map<object, unknown>): unknown {
  if (typeof value === 'string') {
    if (underCredential && !isPlaceholder(value)) return CREDENTIAL_MARKER;
    return redactText(value);
  }
  if (typeof value === 'number' || typeof value === 'bigint')
    return underCredential ? CREDENTIAL_MARKER : value;
  if (value === null || typeof value !== 'object') return value;
  const known = seen.get(value);
  if (known !== undefined) return known;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(walk(item, underCredential, depth + 1, seen));
    return out;
  }
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [key, item] of Object.entries(value)) {
    out[key] = walk(item, underCredential || isCredentialKey(key), depth + 1, seen);
  }
  return out;
}

/**
 * A copy of `value` with every string redacted (`redactText`) and every value under a
 * credential-named key (`password`, `apiKey`, `SLACK_BOT_TOKEN`, …) replaced by
 * `[REDACTED:credential]`, at any depth. Arrays and plain objects are copied; other objects (Dates,
 * class instances) are returned as they are. Cycles are kept as cycles. The input is not changed.
 */
export function redactDeep<T>(value: T): T {
  return walk(value, false, 0, new Map()) as T;
}
