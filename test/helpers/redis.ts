import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A fresh key prefix per test, so tests never see each other's queues or incidents. */
export function uniquePrefix(label = 't'): string {
  return `reeftest-${label}-${randomBytes(4).toString('hex')}`;
}

export function connect(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null });
}

/** Deletes every key under the prefix (BullMQ's and Reef's). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
