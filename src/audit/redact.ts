import { isCredentialKey } from '../secrets/credential-keys.js';
import { redactText } from '../secrets/redact.js';

/**
 * Words that mark a key as holding a credential. A key is split into words (`apiKey` → api, key;
 * `SLACK_BOT_TOKEN` → slack, bot, token), so `privateKey` is caught while `keyboard` or `monkey` are not.
 */
const SECRET_WORDS = new Set([
  'token',
  'password',
  'passwd',
  'secret',
  'authorization',
  'key',
  'apikey',
  'cookie',
  'credential',
  'credentials',
]);

export const REDACTED = '[redacted]';

/** Deeper than this is not "small JSON"; cut rather than walk an arbitrary graph. */
const MAX_DEPTH = 8;

function isSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_WORDS.has(w)) || isCredentialKey(key);
}

/**
 * A copy of `value` with every credential-named key's value replaced by `[redacted]`, at any depth.
 * Audit entries outlive the process and are mirrored to disk, so a token passed in `details` by
 * mistake must never reach either copy. Strings are also run through the shared secret rules
 * (`src/secrets/redact.ts`), so a token inside a message or a command line is hidden too. Values
 * that JSON cannot carry (functions, undefined) drop out.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'string') return redactText(value);
    if (typeof value === 'bigint') return value.toString();
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  }
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const redacted = isSecretKey(k) ? REDACTED : redactSecrets(v, depth + 1);
    if (redacted !== undefined) out[k] = redacted;
  }
  return out;
}
