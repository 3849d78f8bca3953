import { type RedisHandle, resolveRedis } from '../../src/adapters/redis.js';
import { DEFAULT_REDIS_URL } from '../../src/env.js';

/** The Redis a benchmark uses: REDIS_URL, else the default one, else a private redis-server under `dataDir`. */
export function benchRedis(dataDir: string, log?: (message: string) => void): Promise<RedisHandle> {
  return resolveRedis({
    url: process.env.REDIS_URL || DEFAULT_REDIS_URL,
    explicit: Boolean(process.env.REDIS_URL),
    dataDir,
    mayStartPrivate: true,
    ...(log ? { log } : {}),
  });
}
