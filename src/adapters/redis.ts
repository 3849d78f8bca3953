import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { errorMessage, ReefError } from '../errors.js';
import { sleep } from '../util/concurrency.js';
import {
  describeSentinel,
  redactUrl,
  type SentinelAddress,
  type SentinelEnv,
  type SentinelTarget,
  sentinelTarget,
} from './redis-sentinel.js';

/**
 * Where Reef's Redis is: a URL (with REDIS_PASSWORD when the URL has none), the unix socket of a private
 * redis-server Reef started itself, or a master found through Redis Sentinel.
 */
export type RedisLocation =
  | { kind: 'url'; url: string; password?: string }
  | { kind: 'socket'; path: string }
  | { kind: 'sentinel'; target: SentinelTarget };

/**
 * What BullMQ needs to open its own connections: ioredis options (BullMQ passes them to `new Redis`,
 * adding `maxRetriesPerRequest: null` on its blocking connections). One flat shape, so it still fits
 * where a `{ url?, path? }` is expected.
 */
export interface BullConnectionOptions {
  url?: string;
  path?: string;
  sentinels?: SentinelAddress[];
  name?: string;
  username?: string;
  password?: string;
  sentinelPassword?: string;
  db?: number;
}

export interface RedisHandle {
  location: RedisLocation;
  /** Human description, e.g. `redis://127.0.0.1:6379` or `private redis-server (.reef/redis/redis.sock)`. */
  label: string;
  /** A new connection. `blocking` ones (BullMQ workers, stream readers) never time out commands. */
  connect(options?: { blocking?: boolean }): Redis;
  /** Connection options for BullMQ, which then creates (and closes) its own clients. */
  bullConnection(): BullConnectionOptions;
  /** Set when Reef started this redis-server and must stop it on shutdown. */
  privateServer: ChildProcess | undefined;
  stop(): Promise<void>;
}

export interface ResolveRedisOptions {
  url: string;
  /** REDIS_URL was given explicitly: never substitute a private server for it. */
  explicit: boolean;
  dataDir: string;
  /** Allowed to start a private redis-server when nothing answers (only `reef start`). */
  mayStartPrivate: boolean;
  /** REDIS_SENTINELS / REDIS_SENTINEL_NAME / REDIS_SENTINEL_PASSWORD as set (see redis-sentinel.ts). */
  sentinel?: SentinelEnv | undefined;
  /** REDIS_PASSWORD, used when the URL (or Sentinel URL) carries no password. */
  password?: string | undefined;
  log?: (message: string) => void;
}

export function privateSocketPath(dataDir: string): string {
  return path.join(dataDir, 'redis', 'redis.sock');
}

/**
 * Finds a Redis to use: the Sentinel master when REDIS_SENTINELS/REDIS_SENTINEL_NAME or a
 * `redis+sentinel://` REDIS_URL say so; else `REDIS_URL` (default redis://127.0.0.1:6379); else a
 * private one this data directory already runs; else, for `reef start` with `redis-server` on PATH, a
 * new private one under the data directory. Otherwise a `reef_redis_unavailable` error that says how
 * to get one. Invalid Sentinel settings are a `reef_config_invalid` error naming the variable.
 */
export async function resolveRedis(options: ResolveRedisOptions): Promise<RedisHandle> {
  const sentinel = sentinelTarget({
    url: options.url,
    urlExplicit: options.explicit,
    sentinel: options.sentinel,
    password: options.password,
  });
  if (sentinel) return resolveSentinel(sentinel);
  const byUrl: RedisLocation = {
    kind: 'url',
    url: options.url,
    ...(options.password !== undefined && !hasPassword(options.url) ? { password: options.password } : {}),
  };
  const urlError = await ping(byUrl);
  if (urlError === undefined) return handle(byUrl, redact(options.url), undefined);

  if (!options.explicit) {
    const socket: RedisLocation = { kind: 'socket', path: privateSocketPath(options.dataDir) };
    if (existsSync(socket.path) && (await ping(socket)) === undefined) {
      return handle(socket, `private redis-server (${socket.path})`, undefined);
    }
    if (options.mayStartPrivate && onPath('redis-server')) {
      const server = await startPrivateRedis(options.dataDir);
      options.log?.(
        `No Redis answered at ${redact(options.url)}; started a private redis-server (pid ${server.child.pid}) with its data in ${path.dirname(server.location.path)}. Set REDIS_URL to use your own.`,
      );
      return handle(server.location, `private redis-server (${server.location.path})`, server.child);
    }
  }
  throw new ReefError(
    'reef_redis_unavailable',
    `Redis is not reachable at ${redact(options.url)} (${urlError})`,
    {
      hint: options.explicit
        ? 'Check REDIS_URL and that the server is running.'
        : 'Start one with `docker compose up -d redis`, or install your OS package (`apt-get install redis-server`, `brew install redis`), or point REDIS_URL at an existing server.' +
          (options.mayStartPrivate
            ? ''
            : ' `reef start` starts a private redis-server itself when `redis-server` is on PATH.'),
    },
  );
}

/** Sentinel: never a private server in its place; a failure says which Sentinels and name were tried. */
async function resolveSentinel(target: SentinelTarget): Promise<RedisHandle> {
  const location: RedisLocation = { kind: 'sentinel', target };
  const label = describeSentinel(target);
  const error = await ping(location);
  if (error === undefined) return handle(location, label, undefined);
  throw new ReefError('reef_redis_unavailable', `Redis is not reachable through ${label} (${error})`, {
    hint: `Check that the Sentinels answer and know the master: \`redis-cli -h ${target.sentinels[0]?.host} -p ${target.sentinels[0]?.port} SENTINEL get-master-addr-by-name ${target.name}\`. Passwords: REDIS_PASSWORD for Redis, REDIS_SENTINEL_PASSWORD for the Sentinels.`,
  });
}

function handle(
  location: RedisLocation,
  label: string,
  privateServer: ChildProcess | undefined,
): RedisHandle {
  return {
    location,
    label,
    privateServer,
    bullConnection: () => bullOptions(location),
    connect: ({ blocking = false } = {}) =>
      createClient(location, blocking ? { maxRetriesPerRequest: null } : {}),
    async stop() {
      if (!privateServer || privateServer.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => privateServer.once('exit', () => resolve()));
      privateServer.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
    },
  };
}

function bullOptions(location: RedisLocation): BullConnectionOptions {
  switch (location.kind) {
    case 'url':
      return location.password === undefined
        ? { url: location.url }
        : { url: location.url, password: location.password };
    case 'socket':
      return { path: location.path };
    case 'sentinel':
      return sentinelOptions(location.target);
  }
}

/** ioredis options that find the master through the Sentinels (and follow it after a failover). */
function sentinelOptions(target: SentinelTarget): BullConnectionOptions {
  return {
    sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: target.name,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.sentinelPassword !== undefined ? { sentinelPassword: target.sentinelPassword } : {}),
    ...(target.db !== undefined ? { db: target.db } : {}),
  };
}

function createClient(location: RedisLocation, extra: RedisOptions): Redis {
  const base: RedisOptions = { lazyConnect: false, ...extra };
  switch (location.kind) {
    case 'url':
      // URL values win over options in ioredis, so REDIS_PASSWORD only fills a URL without one.
      return new Redis(
        location.url,
        location.password === undefined ? base : { ...base, password: location.password },
      );
    case 'socket':
      return new Redis({ ...base, path: location.path });
    case 'sentinel':
      return new Redis({ ...base, ...sentinelOptions(location.target) });
  }
}

/** undefined when the server answers PING, else why not. */
async function ping(location: RedisLocation): Promise<string | undefined> {
  const client = createClient(location, {
    lazyConnect: true,
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // The command's own error is often just "Connection is closed."; the client's last error says why
  // (NOAUTH, ECONNREFUSED, all Sentinels unreachable…).
  let cause: unknown;
  client.on('error', (error: unknown) => {
    cause = error;
  });
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    const message = errorMessage(error);
    return cause !== undefined && /connection is closed/i.test(message) ? errorMessage(cause) : message;
  } finally {
    client.disconnect();
  }
}

async function startPrivateRedis(
  dataDir: string,
): Promise<{ location: { kind: 'socket'; path: string }; child: ChildProcess }> {
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socketPath = privateSocketPath(dataDir);
  const child = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      socketPath,
      '--unixsocketperm',
      '700',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const location = { kind: 'socket' as const, path: socketPath };
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) break;
    if (existsSync(socketPath) && (await ping(location)) === undefined) return { location, child };
    await sleep(100);
  }
  child.kill('SIGTERM');
  throw new ReefError('reef_redis_unavailable', `The private redis-server in ${dir} did not start`, {
    hint: 'Run `redis-server --version` to check the installation, or set REDIS_URL to a running server.',
  });
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => dir && existsSync(path.join(dir, command)));
}

/** Hides a password in a Redis URL before it is printed. */
export function redact(url: string): string {
  return redactUrl(url);
}

function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

/**
 * Deletes every key under `prefix` (Reef's and BullMQ's), in pages: how a demo, a benchmark or a test
 * leaves a shared Redis as it found it.
 */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
