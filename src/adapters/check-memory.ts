import type { Redis } from 'ioredis';
import type { CheckMemory } from '../checks/check.js';

/** Check memory in Redis, shared by every worker (restart counts between sweeps, for example). */
export class RedisCheckMemory implements CheckMemory {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(`${this.prefix}:memory:${key}`)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.prefix}:memory:${key}`, value, 'PX', ttlMs);
  }
}

/** Check memory for one process (`reef check --once`): forgotten at exit. */
export class InMemoryCheckMemory implements CheckMemory {
  private readonly entries = new Map<string, { value: string; expires: number }>();

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (!entry || entry.expires < Date.now()) return undefined;
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expires: Date.now() + ttlMs });
  }
}
