import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TargetLocks } from '../../src/guardrails/target-lock.js';
import { sleep } from '../../src/util/concurrency.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { connect, dropPrefix, uniquePrefix } from '../helpers/redis.js';

describe('TargetLocks', () => {
  let a: Redis;
  let b: Redis;
  let prefix: string;
  // Two connections stand for two worker processes.
  let first: TargetLocks;
  let second: TargetLocks;
  const clock = new FakeClock('2026-11-28T03:00:00Z');

  beforeAll(() => {
    a = connect();
    b = connect();
  });
  afterAll(() => {
    a.disconnect();
    b.disconnect();
  });
  afterEach(async () => {
    await dropPrefix(a, prefix);
  });
  const fresh = () => {
    prefix = uniquePrefix('lock');
    first = new TargetLocks(a, prefix, clock);
    second = new TargetLocks(b, prefix, clock);
  };

  it('is exclusive across connections and says who holds it since when', async () => {
    fresh();
    const got = await first.acquire('apps/web', 'execution-17', 10_000);
    expect(got.acquired).toBe(true);
    const busy = await second.acquire('apps/web', 'execution-18', 10_000);
    expect(busy).toEqual({
      acquired: false,
      holder: { owner: 'execution-17', since: new Date('2026-11-28T03:00:00Z') },
      reason: 'apps/web is held by execution-17 since 2026-11-28T03:00:00.000Z',
    });
    // Another target is independent.
    expect((await second.acquire('apps/api', 'execution-18', 10_000)).acquired).toBe(true);
  });

  it('of many concurrent acquirers exactly one wins', async () => {
    fresh();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? first : second).acquire('t', `e${i}`, 10_000)),
    );
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
  });

  it('renewal keeps it past its TTL; expiry frees it', async () => {
    fresh();
    const got = await first.acquire('t', 'e1', 500);
    if (!got.acquired) throw new Error(got.reason);
    for (let i = 0; i < 4; i++) {
      await sleep(250);
      expect(await got.lease.renew()).toBe(true);
    }
    expect((await second.acquire('t', 'e2', 500)).acquired).toBe(false);
    await sleep(700);
    expect(await first.holder('t')).toBeUndefined();
    const taken = await second.acquire('t', 'e2', 10_000);
    expect(taken.acquired).toBe(true);
    // The former owner can neither extend nor free what is now e2's.
    expect(await got.lease.renew()).toBe(false);
    expect(await got.lease.release()).toBe(false);
    expect(await second.holder('t')).toMatchObject({ owner: 'e2' });
  });

  it('release frees it for the next execution; a stale lease of the same owner does nothing', async () => {
    fresh();
    const old = await first.acquire('t', 'e1', 200);
    if (!old.acquired) throw new Error(old.reason);
    await sleep(300);
    // Same owner id again: a different lease, so the old one's token no longer matches.
    const again = await first.acquire('t', 'e1', 10_000);
    if (!again.acquired) throw new Error(again.reason);
    expect(await old.lease.release()).toBe(false);
    expect(await first.holder('t')).toMatchObject({ owner: 'e1' });
    expect(await again.lease.release()).toBe(true);
    expect(await second.holder('t')).toBeUndefined();
    expect((await second.acquire('t', 'e2', 10_000)).acquired).toBe(true);
  });

  it('withTargetLock renews while fn runs, releases after, and reports busy with the holder', async () => {
    fresh();
    let busy: unknown;
    const result = await first.withTargetLock(
      'apps/web',
      'execution-5',
      async (signal) => {
        // Longer than three TTLs: only renewal keeps the lock.
        await sleep(1000);
        busy = await second.withTargetLock('apps/web', 'execution-6', async () => 'never');
        return signal.aborted ? 'lost' : 'done';
      },
      { ttlMs: 300 },
    );
    expect(result).toEqual({ status: 'ran', value: 'done', leaseLost: false });
    expect(busy).toMatchObject({
      status: 'busy',
      holder: { owner: 'execution-5' },
      reason: expect.stringMatching(/^apps\/web is held by execution-5 since /),
    });
    expect(await first.holder('apps/web')).toBeUndefined();
  });

  it('withTargetLock releases when fn throws', async () => {
    fresh();
    await expect(
      first.withTargetLock('t', 'e1', async () => {
        throw new Error('step failed');
      }),
    ).rejects.toThrow('step failed');
    expect(await first.holder('t')).toBeUndefined();
  });

  it('withTargetLock aborts the signal when the lease is lost mid-run', async () => {
    fresh();
    const result = await first.withTargetLock(
      't',
      'e1',
      async (signal) => {
        // Someone (an operator, a bug) removes the lock: the next renewal notices.
        await a.del(`${prefix}:guard:lock:t`);
        await second.acquire('t', 'e2', 10_000);
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        return String((signal.reason as Error).message);
      },
      { ttlMs: 150 },
    );
    expect(result).toEqual({
      status: 'ran',
      value: 'lost the lock on t: another execution may hold it',
      leaseLost: true,
    });
    // e2's lock survived e1's final release.
    expect(await second.holder('t')).toMatchObject({ owner: 'e2' });
  });
});
