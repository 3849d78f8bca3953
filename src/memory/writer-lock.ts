import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ReefError } from '../errors.js';
import { sleep } from '../util/concurrency.js';

/**
 * One writer at a time for the memory repository: in this process (a promise chain) and, given a
 * Redis key, across every process writing the same folder, since git refuses (or worse, interleaves)
 * two commits at once. The Redis lock carries a token, so only its holder releases it, and a lease,
 * so a crashed holder frees it.
 */
const LEASE_MS = 120_000;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class WriterLock {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly shared?: { redis: Redis; key: string }) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(async () => {
      const lock = this.shared;
      if (!lock) return fn();
      const token = randomUUID();
      for (let attempt = 0; ; attempt++) {
        if ((await lock.redis.set(lock.key, token, 'PX', LEASE_MS, 'NX')) === 'OK') break;
        if (attempt > 1200)
          throw new ReefError(
            'reef_memory_failed',
            `the memory lock ${lock.key} stayed taken for 2 minutes`,
            {
              hint: 'Another Reef process is writing the memory repository, or one died holding the lock (it expires by itself).',
            },
          );
        await sleep(100);
      }
      try {
        return await fn();
      } finally {
        await lock.redis.eval(RELEASE, 1, lock.key, token);
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
