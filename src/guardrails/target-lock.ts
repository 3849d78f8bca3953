import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type Clock, systemClock } from '../adapters/clock.js';

// Both only act while the key still holds this lease's value: an expired lease that another execution
// has since taken must never be extended or deleted by its former owner.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Who holds a target: the execution id given to `acquire`, and since when (the holder's clock). */
export interface LockHolder {
  owner: string;
  since: Date;
}

/** A held target lock. It expires after `ttlMs` unless renewed. */
export interface TargetLease {
  readonly target: string;
  readonly owner: string;
  readonly since: Date;
  /** Extends the lease by its TTL; false when it was lost (expired, possibly taken by another execution). */
  renew(): Promise<boolean>;
  /** Frees the target; false when the lease was already lost. Never frees another owner's lock. */
  release(): Promise<boolean>;
}

export type AcquireLockResult =
  | { acquired: true; lease: TargetLease }
  | {
      acquired: false;
      /** Undefined only when the holder vanished between the failed SET and the read. */
      holder: LockHolder | undefined;
      /** `apps/web is held by execution 17 since 2026-11-28T03:00:00.000Z` (the owner as given to `acquire`) */
      reason: string;
    };

export type WithLockResult<T> =
  | {
      status: 'ran';
      value: T /** Renewal failed mid-run: the signal given to `fn` was aborted. */;
      leaseLost: boolean;
    }
  | { status: 'busy'; holder: LockHolder | undefined; reason: string };

export interface WithLockOptions {
  /** Lease length; renewed every third of it while `fn` runs (default 30 s). */
  ttlMs?: number;
}

/**
 * One execution per target at a time, across processes: a Redis key per target holding the owner's
 * lease (`SET NX PX`), renewed and released only by the token that set it (compare-and-act Lua, as
 * `IncidentStore.withLock`). Acquiring never waits: a busy target is a result with its holder, and
 * the caller decides (delay the job, tell the thread), because a queued execution must not pin a worker.
 *
 * Key (under the prefix): `guard:lock:<target>`.
 */
export class TargetLocks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly clock: Clock = systemClock,
  ) {}

  private key(target: string): string {
    return `${this.prefix}:guard:lock:${target}`;
  }

  async acquire(target: string, owner: string, ttlMs: number): Promise<AcquireLockResult> {
    const key = this.key(target);
    const since = this.clock.now();
    // The token makes two acquisitions by the same owner distinct; owner and since are for humans.
    const value = JSON.stringify({ token: randomUUID(), owner, since: since.toISOString() });
    if ((await this.redis.set(key, value, 'PX', ttlMs, 'NX')) === 'OK') {
      const redis = this.redis;
      return {
        acquired: true,
        lease: {
          target,
          owner,
          since,
          renew: async () => Number(await redis.eval(RENEW, 1, key, value, ttlMs)) === 1,
          release: async () => Number(await redis.eval(RELEASE, 1, key, value)) === 1,
        },
      };
    }
    const holder = await this.holder(target);
    return {
      acquired: false,
      holder,
      reason: holder
        ? `${target} is held by ${holder.owner} since ${holder.since.toISOString()}`
        : `${target} was held by another execution a moment ago`,
    };
  }

  /** The current holder of a target, if any (for `reef status` and busy messages). */
  async holder(target: string): Promise<LockHolder | undefined> {
    const raw = await this.redis.get(this.key(target));
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as { owner: string; since: string };
    return { owner: parsed.owner, since: new Date(parsed.since) };
  }

  /**
   * Runs `fn` holding the target's lock, renewing it every third of the TTL so a long step (a
   * certbot renewal, an Ansible run) keeps it; released afterwards, whatever `fn` did. If a renewal
   * finds the lease lost, `signal` aborts: another execution may now own the target, so `fn` should
   * stop before its next step.
   */
  async withTargetLock<T>(
    target: string,
    owner: string,
    fn: (signal: AbortSignal, lease: TargetLease) => Promise<T>,
    options: WithLockOptions = {},
  ): Promise<WithLockResult<T>> {
    const ttlMs = options.ttlMs ?? 30_000;
    const got = await this.acquire(target, owner, ttlMs);
    if (!got.acquired) return { status: 'busy', holder: got.holder, reason: got.reason };
    const { lease } = got;
    const lost = new AbortController();
    const timer = setInterval(
      () => {
        lease.renew().then(
          (kept) => {
            if (!kept) lost.abort(new Error(`lost the lock on ${target}: another execution may hold it`));
          },
          // A Redis hiccup is not a lost lease; the next renewal (still within the TTL) retries.
          () => {},
        );
      },
      Math.max(10, Math.floor(ttlMs / 3)),
    );
    try {
      const value = await fn(lost.signal, lease);
      return { status: 'ran', value, leaseLost: lost.signal.aborted };
    } finally {
      clearInterval(timer);
      // If Redis is unreachable now, the TTL frees the target; fn's outcome matters more than this.
      await lease.release().catch(() => false);
    }
  }
}
