import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DiagnosisTrigger } from './diagnoser.js';
import type { Diagnosis } from './diagnosis.js';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * LLM diagnoses in Redis, by fingerprint, for `cacheTtl`: the same problem reopening (a flapping
 * target, a restart of Reef, another worker) reuses the answer instead of paying for it again. The
 * key also holds the trigger and the candidate ids, because a different question (an escalation,
 * a changed runbook folder) deserves its own answer. A claim key makes concurrent processes ask
 * once: the loser waits for the winner's answer instead of calling too.
 *
 * Keys: `llm:diag:<fingerprint>:<trigger>:<candidates hash>` and `…:claim`.
 */
export class DiagnosisCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  key(fingerprint: string, trigger: DiagnosisTrigger, candidateIds: readonly string[]): string {
    const ids = createHash('sha256').update(candidateIds.join('\u0000')).digest('hex').slice(0, 12);
    return `${this.prefix}:llm:diag:${fingerprint}:${trigger}:${ids}`;
  }

  async get(key: string): Promise<Diagnosis | undefined> {
    const raw = await this.redis.get(key);
    return raw ? (JSON.parse(raw) as Diagnosis) : undefined;
  }

  async put(key: string, diagnosis: Diagnosis): Promise<void> {
    await this.redis.set(key, JSON.stringify(diagnosis), 'PX', this.ttlMs);
  }

  /** A token when this process may call the model for `key`; undefined when another one is. */
  async claim(key: string, forMs: number): Promise<string | undefined> {
    const token = randomUUID();
    const ok = await this.redis.set(`${key}:claim`, token, 'PX', forMs, 'NX');
    return ok === 'OK' ? token : undefined;
  }

  async release(key: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, `${key}:claim`, token);
  }

  /** Polls for another process's answer until `timeoutMs`; undefined if none came (or its claim lapsed). */
  async waitFor(key: string, timeoutMs: number, pollMs = 50): Promise<Diagnosis | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await this.get(key);
      if (found) return found;
      if (Date.now() >= deadline || (await this.redis.exists(`${key}:claim`)) === 0) return this.get(key);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}
