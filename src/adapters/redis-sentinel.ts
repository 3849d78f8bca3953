import { ReefError } from '../errors.js';

/**
 * Where a Redis Sentinel set-up is, parsed from the environment (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`)
 * or from a `redis+sentinel://` URL in `REDIS_URL`. Kept apart from redis.ts so the rules of these
 * variables (and their error messages) live in one small place that tests can call without a server.
 */

export const DEFAULT_SENTINEL_PORT = 26379;
export const SENTINEL_URL_SCHEME = 'redis+sentinel:';

export interface SentinelAddress {
  host: string;
  port: number;
}

/** Everything ioredis needs to find the current master through Sentinel. */
export interface SentinelTarget {
  sentinels: SentinelAddress[];
  /** The master group name, as in `sentinel monitor <name> …`. */
  name: string;
  /** ACL user and password of the Redis servers (master and replicas). */
  username?: string;
  password?: string;
  /** Password of the Sentinel processes themselves (`requirepass` in sentinel.conf). */
  sentinelPassword?: string;
  db?: number;
}

/** The Sentinel variables exactly as set; `readEnv` collects them, `sentinelTarget` validates them. */
export interface SentinelEnv {
  sentinels: string | undefined;
  name: string | undefined;
  sentinelPassword: string | undefined;
}

const HINT_FORMAT =
  'Use REDIS_SENTINELS=host:port,host:port (port defaults to 26379; IPv6 as [::1]:26379) with REDIS_SENTINEL_NAME=<the name in `sentinel monitor`>, or REDIS_URL=redis+sentinel://[:password@]host:port,host:port/<name>[/db].';

/** True for a `redis+sentinel://` URL. */
export function isSentinelUrl(url: string): boolean {
  return url.toLowerCase().startsWith(`${SENTINEL_URL_SCHEME}//`);
}

/**
 * The Sentinel target the environment asks for, or undefined when it asks for none. Every problem is
 * a `reef_config_invalid` error naming the variable, so a typo never falls back to another Redis.
 */
export function sentinelTarget(options: {
  url: string;
  urlExplicit: boolean;
  sentinel: SentinelEnv | undefined;
  password: string | undefined;
}): SentinelTarget | undefined {
  const { sentinel } = options;
  const fromUrl = options.urlExplicit && isSentinelUrl(options.url);
  const fromVars =
    sentinel !== undefined && (sentinel.sentinels !== undefined || sentinel.name !== undefined);
  if (fromVars && options.urlExplicit) {
    throw invalid(
      `REDIS_URL (${redactUrl(options.url)}) and REDIS_SENTINELS/REDIS_SENTINEL_NAME are both set`,
      'Reef would not know which Redis to use: unset REDIS_URL to go through Sentinel, or unset REDIS_SENTINELS and REDIS_SENTINEL_NAME to use the URL.',
    );
  }
  let target: SentinelTarget | undefined;
  if (fromUrl) target = parseSentinelUrl(options.url);
  else if (fromVars) target = fromVariables(sentinel);
  if (!target) {
    if (sentinel?.sentinelPassword === undefined) return undefined;
    throw invalid(
      'REDIS_SENTINEL_PASSWORD is set but no Sentinel is configured',
      'Set REDIS_SENTINELS and REDIS_SENTINEL_NAME (or a redis+sentinel:// REDIS_URL), or unset REDIS_SENTINEL_PASSWORD; the password of Redis itself is REDIS_PASSWORD.',
    );
  }
  if (target.password === undefined && options.password !== undefined) target.password = options.password;
  const sentinelPassword = sentinel?.sentinelPassword;
  if (sentinelPassword !== undefined) target.sentinelPassword = sentinelPassword;
  return target;
}

function fromVariables(env: SentinelEnv): SentinelTarget {
  if (env.sentinels === undefined || env.sentinels.trim() === '') {
    throw invalid(
      'REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not',
      'Set REDIS_SENTINELS to the Sentinel addresses, e.g. REDIS_SENTINELS=10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379.',
    );
  }
  if (env.name === undefined || env.name.trim() === '') {
    throw invalid(
      'REDIS_SENTINELS is set but REDIS_SENTINEL_NAME is not',
      'Set REDIS_SENTINEL_NAME to the master group name the Sentinels monitor (the <name> in `sentinel monitor <name> <ip> <port> <quorum>`; often mymaster).',
    );
  }
  return {
    sentinels: parseSentinelList(env.sentinels, 'REDIS_SENTINELS'),
    name: masterName(env.name.trim(), 'REDIS_SENTINEL_NAME'),
  };
}

/**
 * `redis+sentinel://[[user]:password@]host:port,host:port/<name>[/db]`. The password is the one of the
 * Redis servers; the Sentinels' own password comes from REDIS_SENTINEL_PASSWORD.
 */
export function parseSentinelUrl(url: string): SentinelTarget {
  const rest = url.slice(`${SENTINEL_URL_SCHEME}//`.length);
  const match = /^(?:([^@/]*)@)?([^/?#]*)(?:\/([^/?#]*))?(?:\/([^/?#]*))?\/?([?#].*)?$/.exec(rest);
  const shown = redactUrl(url);
  if (!match) throw invalid(`REDIS_URL (${shown}) is not a valid redis+sentinel:// URL`, HINT_FORMAT);
  const [, userinfo, hosts = '', name, db, extra] = match;
  if (extra !== undefined) {
    throw invalid(
      `REDIS_URL (${shown}): query strings and fragments are not supported here`,
      'Put the Sentinel password in REDIS_SENTINEL_PASSWORD and the database after the name: redis+sentinel://host:26379/mymaster/2.',
    );
  }
  if (hosts === '') throw invalid(`REDIS_URL (${shown}) names no Sentinel`, HINT_FORMAT);
  if (name === undefined || name === '')
    throw invalid(`REDIS_URL (${shown}) has no master name after the Sentinels`, HINT_FORMAT);
  const target: SentinelTarget = {
    sentinels: parseSentinelList(hosts, 'REDIS_URL'),
    name: masterName(decode(name, 'REDIS_URL'), 'REDIS_URL'),
  };
  if (db !== undefined && db !== '') {
    if (!/^\d{1,5}$/.test(db))
      throw invalid(
        `REDIS_URL (${shown}): the database "${db}" is not a number`,
        'The part after the master name is the database index, e.g. redis+sentinel://host:26379/mymaster/0.',
      );
    target.db = Number(db);
  }
  if (userinfo !== undefined && userinfo !== '') {
    const colon = userinfo.indexOf(':');
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    const password = colon === -1 ? '' : userinfo.slice(colon + 1);
    if (user !== '') target.username = decode(user, 'REDIS_URL');
    if (password !== '') target.password = decode(password, 'REDIS_URL');
  }
  return target;
}

/** `host:port,host:port`; a bare host means port 26379; IPv6 in brackets. Every bad entry is listed. */
export function parseSentinelList(text: string, variable: string): SentinelAddress[] {
  const problems: string[] = [];
  const addresses: SentinelAddress[] = [];
  const entries = text.split(',').map((e) => e.trim());
  entries.forEach((entry, i) => {
    const where = `entry ${i + 1}`;
    if (entry === '') {
      problems.push(`${where} is empty (a stray comma?)`);
      return;
    }
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/@]+))(?::(\d+))?$/.exec(entry);
    if (!m) {
      problems.push(`${where} "${entry}" is not host:port`);
      return;
    }
    const host = (m[1] ?? m[2]) as string;
    const port = m[3] === undefined ? DEFAULT_SENTINEL_PORT : Number(m[3]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(`${where} "${entry}": port ${m[3]} is not between 1 and 65535`);
      return;
    }
    addresses.push({ host, port });
  });
  if (problems.length > 0) {
    throw new ReefError('reef_config_invalid', `${variable} has ${plural(problems.length, 'problem')}`, {
      details: problems,
      hint: HINT_FORMAT,
    });
  }
  return addresses;
}

function masterName(name: string, variable: string): string {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(name)) {
    throw invalid(
      `${variable}: the master name "${name}" is not valid`,
      'Use the name the Sentinels monitor (letters, digits, ".", "_" and "-"), as `redis-cli -p 26379 SENTINEL masters` lists it.',
    );
  }
  return name;
}

function decode(text: string, variable: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(
      `${variable} holds a malformed %-escape`,
      'Percent-encode special characters of the password as in any URL (e.g. @ as %40).',
    );
  }
}

/** Shows a Sentinel target without its passwords. */
export function describeSentinel(target: SentinelTarget): string {
  const hosts = target.sentinels.map((s) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`);
  return `Sentinel master "${target.name}" via ${hosts.join(',')}${target.db ? ` (db ${target.db})` : ''}`;
}

/** Hides a password in a (possibly sentinel) Redis URL. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):([^@/]*)@/, '//$1:***@');
}

function invalid(message: string, hint: string = HINT_FORMAT): ReefError {
  return new ReefError('reef_config_invalid', message, { hint });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
