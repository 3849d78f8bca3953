import { credentialKeyKind } from './credential-keys.js';
import { isPlaceholder, looksLikeSecretValue, type SecretRule, shannonEntropy } from './secret-rule.js';

/**
 * Rules that recognise a credential by what surrounds it rather than by its own shape: a password
 * in a URL or connection string, a `password=` / `secret:` pair, an `Authorization` or `Cookie`
 * header, a bearer token, a `--password` flag, and high-entropy values under token-like names. The
 * URL and connection-string rules follow secretlint's `basicauth` and `database-connection-string`
 * rules, widened to any scheme; the pair rule generalises gitleaks' `generic-api-key` (keyword +
 * assignment + entropy) with the key-name words in `credential-keys.ts`.
 */

const DB_SCHEMES =
  'postgres|postgresql|mysql|mysqlx|mariadb|mongodb|mongodb\\+srv|redis|rediss|amqp|amqps|mssql|sqlserver|oracle|cockroachdb|clickhouse|nats|kafka|couchdb|neo4j|ldap|ldaps';

/** A token-ish value: long enough and random enough not to be a word, a number or a name. */
function tokenLike(value: string, strict: boolean): boolean {
  if (!looksLikeSecretValue(value)) return false;
  if (strict) return value.length >= 16 && shannonEntropy(value) >= 3.5;
  if (value.length < 8 || /^\d+$/.test(value)) return false;
  return shannonEntropy(value) >= 2.8 || (/\d/.test(value) && /[A-Za-z]/.test(value));
}

function passwordLike(value: string, strict: boolean): boolean {
  return strict ? looksLikeSecretValue(value) : value.length >= 3 && !isPlaceholder(value);
}

/** The first word of an `Authorization` value; the `authorization-header` rule takes the token. */
const AUTH_SCHEME = /^(?:bearer|basic|token|digest|negotiate)$/i;

/** `Basic <base64>` is a credential only when it decodes to `user:password`. */
function basicCredential(value: string): boolean {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return /^[\x20-\x7e]+:[\x20-\x7e]+$/.test(decoded);
}

export const CONTEXT_RULES: readonly SecretRule[] = [
  {
    id: 'connection-string',
    description: 'a password in a database or broker connection string',
    pattern: new RegExp(
      String.raw`\b(?:jdbc:)?(?:${DB_SCHEMES})://[^\s:/?#@'"]{0,100}:([^\s@/'"]{1,200})@`,
      'gid',
    ),
    group: 1,
    accept: passwordLike,
    origin: 'secretlint',
  },
  {
    id: 'url-password',
    description: 'a password in a URL',
    pattern: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/?#@'"]{0,100}:([^\s@/'"]{1,200})@/dgi,
    group: 1,
    accept: passwordLike,
    origin: 'secretlint',
  },
  {
    id: 'authorization-header',
    description: 'an Authorization header value',
    pattern:
      /\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|negotiate|apikey|sharedkey|sso-key|ssws|splunk|gensdk|dsn)\s+)?([^\s"',;]{6,})/dgi,
    group: 1,
    accept: (value, strict) => (strict ? tokenLike(value, true) : !isPlaceholder(value)),
    origin: 'reef',
  },
  {
    id: 'bearer-token',
    description: 'a bearer token',
    pattern: /\bbearer\s+([A-Za-z0-9._~+/-]{8,}={0,2})/dgi,
    group: 1,
    accept: tokenLike,
    origin: 'reef',
  },
  {
    id: 'basic-auth',
    description: 'HTTP basic credentials',
    pattern: /\bbasic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/dgi,
    group: 1,
    accept: (value) => basicCredential(value),
    origin: 'reef',
  },
  {
    id: 'cookie',
    description: 'a Cookie or Set-Cookie header value',
    pattern: /\b(?:set-)?cookie["']?\s*:\s*([^\r\n"]{4,})/dgi,
    group: 1,
    accept: (value, strict) => (strict ? tokenLike(value.replace(/\s/g, ''), true) : true),
    origin: 'reef',
  },
  {
    id: 'password-flag',
    description: 'a credential passed as a command-line flag',
    pattern:
      /(?:^|\s)--?(?:password|passwd|pass|token|secret|api-key|apikey|auth-token|access-token|client-secret)[ ]+(?!-)("[^"\n]{1,300}"|'[^'\n]{1,300}'|[^\s"']{3,300})/dgi,
    group: 1,
    accept: passwordLike,
    origin: 'reef',
  },
  {
    id: 'credential-assignment',
    description: 'a credential in a key=value or key: value pair',
    pattern:
      /(?<![\w.-])([A-Za-z_][\w.-]{0,63})["']?\s*(?:=>|=|:)\s*(\$\{[^}\n]{0,100}\}|\{\{[^}\n]{0,100}\}\}|"[^"\n]{1,300}"|'[^'\n]{1,300}'|[^\s"'&;,}\]]{1,300})/dg,
    group: 2,
    accept: (value, strict, match) => {
      const kind = credentialKeyKind(match[1] ?? '');
      if (kind === undefined || AUTH_SCHEME.test(value)) return false;
      return kind === 'always' ? passwordLike(value, strict) : tokenLike(value, strict);
    },
    origin: 'gitleaks',
  },
];
