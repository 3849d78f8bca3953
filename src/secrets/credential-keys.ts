/**
 * Whether a key name (an object key, a `KEY=value` name, a header) says its value is a credential.
 * One answer for redaction of structured data (`redactDeep`, the audit log) and for `key=value`
 * pairs in free text. A name is split into words (`apiKey` → api key, `SLACK_BOT_TOKEN` → slack bot
 * token), so `privateKey` is caught while `keyboard` or `monkey` are not, and a name that ends in a
 * reference word (`secretName`, `passwordFile`, `tokenCount`) is about a credential without holding
 * one, so it is left alone.
 */

/** Names whose value is hidden whatever it looks like. */
const ALWAYS_WORDS = new Set([
  'password',
  'passwd',
  'passphrase',
  'pass',
  'pwd',
  'secret',
  'secrets',
  'credential',
  'credentials',
  'authorization',
  'privatekey',
]);

/** Names whose value is hidden when it looks like a token rather than a word or a number. */
const TOKEN_WORDS = new Set([
  'token',
  'apikey',
  'auth',
  'cookie',
  'session',
  'sessionid',
  'sid',
  'dsn',
  'signature',
  'sig',
  'jwt',
  'bearer',
  'otp',
]);

/** `<qualifier>key` written as one or two words: `api_key`, `AccessKey`, `x-api-key`, `SIGNING_KEY`. */
const QUALIFIED_KEY =
  /(?:api|access|private|secret|signing|master|encryption|client|account|license|app|webhook|shared|sas|subscription|ingest|deploy|auth|storage|admin|write|read|service|session|hmac)key$/;

/** A final word that makes the name a reference to, or a property of, a credential. */
const REFERENCE_WORDS = new Set([
  'name',
  'names',
  'ref',
  'refs',
  'path',
  'paths',
  'file',
  'files',
  'dir',
  'type',
  'kind',
  'length',
  'len',
  'count',
  'version',
  'enabled',
  'ttl',
  'expiry',
  'expires',
  'expired',
  'age',
  'policy',
  'store',
  'provider',
  'manager',
  'namespace',
  'mount',
  'field',
  'env',
  'source',
  'size',
  'required',
  'url',
  'endpoint',
  'header',
  'prefix',
  'format',
  'rotation',
  'rotated',
  'used',
  'in',
  'out',
]);

export type CredentialKeyKind = 'always' | 'token';

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** `'always'`, `'token'` (hide when the value looks like a token) or `undefined` (not a credential). */
export function credentialKeyKind(key: string): CredentialKeyKind | undefined {
  const parts = words(key);
  const last = parts.at(-1);
  if (last === undefined || REFERENCE_WORDS.has(last)) return undefined;
  const joined = parts.join('');
  if (parts.some((w) => ALWAYS_WORDS.has(w)) || joined.endsWith('privatekey')) return 'always';
  if (parts.some((w) => TOKEN_WORDS.has(w)) || QUALIFIED_KEY.test(joined)) return 'token';
  return undefined;
}

export function isCredentialKey(key: string): boolean {
  return credentialKeyKind(key) !== undefined;
}
