import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { errorMessage, ReefError } from '../errors.js';
import { sleep } from '../util/concurrency.js';

/** Where Reef's Redis is: a URL, or the unix socket of a private redis-server Reef started itself. */
export type RedisLocation = { kind: 'url'; url: string } | { kind: 'socket'; path: string };

export interface RedisHandle {
  location: RedisLocation;
  /** Human description, e.g. `redis://127.0.0.1:6379` or `private redis-server (.reef/redis/redis.sock)`. */
  label: string;
  /** A new connection. `blocking` ones (BullMQ workers, stream readers) never time out commands. */
  connect(options?: { blocking?: boolean }): Redis;
  /** Connection options for BullMQ, which then creates (and closes) its own clients. */
  bullConnection(): { url?: string; path?: string };
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
  log?: (message: string) => void;
}

export function privateSocketPath(dataDir: string): string {
  return path.join(dataDir, 'redis', 'redis.sock');
}

/**
 * Finds a Redis to use: `REDIS_URL` (default redis://127.0.0.1:6379); else a private one this data
 * directory already runs; else, for `reef start` with `redis-server` on PATH, a new private one under the
 * data directory. Otherwise a `reef_redis_unavailable` error that says how to get one.
 */
export async function resolveRedis(options: ResolveRedisOptions): Promise<RedisHandle> {
  const byUrl: RedisLocation = { kind: 'url', url: options.url };
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

function handle(
  location: RedisLocation,
  label: string,
  privateServer: ChildProcess | undefined,
): RedisHandle {
  return {
    location,
    label,
    privateServer,
    bullConnection: () => (location.kind === 'url' ? { url: location.url } : { path: location.path }),
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

function createClient(location: RedisLocation, extra: RedisOptions): Redis {
  const base: RedisOptions = { lazyConnect: false, ...extra };
  return location.kind === 'url'
    ? new Redis(location.url, base)
    : new Redis({ ...base, path: location.path });
}

/** undefined when the server answers PING, else why not. */
async function ping(location: RedisLocation): Promise<string | undefined> {
  const client = createClient(location, {
    lazyConnect: true,
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return errorMessage(error);
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
  return url.replace(/\/\/([^:@/]*):([^@/]*)@/, '//$1:***@');
}
