import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, escalationDue, HOUR_MS, RateLimiter } from '../../src/guardrails/rate-limit.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { limitKey, render } from '../../src/runbooks/render.js';
import type { Runbook } from '../../src/runbooks/runbook.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { connect, dropPrefix, uniquePrefix } from '../helpers/redis.js';

const MINUTE = 60_000;

function runbook(limits: Partial<Runbook['limits']>, extra: Partial<Runbook> = {}): Runbook {
  return {
    id: 'restart',
    title: 'Restart',
    file: '/runbooks/restart.md',
    match: { check: 'pods', condition: 'CrashLoopBackOff' },
    mode: 'approve',
    risk: 'low',
    approvalsRequired: 1,
    stateful: false,
    idempotent: true,
    limits: { perTargetPerHour: 3, target: '{{target}}', ...limits },
    commands: {},
    roots: [],
    steps: [],
    alternatives: [],
    prose: '',
    ...extra,
  };
}

describe('RateLimiter', () => {
  let redis: Redis;
  let prefix: string;
  let limiter: RateLimiter;

  beforeAll(() => {
    redis = connect();
  });
  afterAll(() => redis.disconnect());
  afterEach(async () => {
    await dropPrefix(redis, prefix);
  });
  const fresh = () => {
    prefix = uniquePrefix('rate');
    limiter = new RateLimiter(redis, prefix);
  };

  it('allows perTargetPerHour runs an hour, counting runs in the hour and the day', async () => {
    fresh();
    const clock = new FakeClock();
    const rb = runbook({ perTargetPerHour: 3 });
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push(await limiter.tryAcquire(rb, 'apps/web', clock.now()));
      clock.advance(10 * MINUTE);
    }
    expect(results).toEqual([
      { allowed: true, runsInHour: 1, runsInDay: 1 },
      { allowed: true, runsInHour: 2, runsInDay: 2 },
      { allowed: true, runsInHour: 3, runsInDay: 3 },
    ]);
    const refused = await limiter.tryAcquire(rb, 'apps/web', clock.now());
    expect(refused).toMatchObject({ allowed: false, limit: 'perTargetPerHour', runsInHour: 3 });
    if (refused.allowed) throw new Error('unreachable');
    expect(refused.reason).toMatch(/^over perTargetPerHour \(3\/3 in the last hour\); breaker open until /);
    expect(refused.reason).toMatch(/escalate/);
    // Other keys and other runbooks count on their own.
    expect(await limiter.tryAcquire(rb, 'apps/api', clock.now())).toMatchObject({
      allowed: true,
      runsInHour: 1,
    });
    expect(await limiter.tryAcquire(runbook({}, { id: 'other' }), 'apps/web', clock.now())).toMatchObject({
      allowed: true,
      runsInHour: 1,
    });
  });

  it('the hour window slides: old runs age out of the hour but still count for the day', async () => {
    fresh();
    const clock = new FakeClock();
    const rb = runbook({ perTargetPerHour: 2, perTargetPerDay: 3 });
    expect(await limiter.tryAcquire(rb, 'k', clock.now())).toMatchObject({ allowed: true });
    clock.advance(HOUR_MS + MINUTE);
    expect(await limiter.tryAcquire(rb, 'k', clock.now())).toEqual({
      allowed: true,
      runsInHour: 1,
      runsInDay: 2,
    });
    clock.advance(HOUR_MS + MINUTE);
    expect(await limiter.tryAcquire(rb, 'k', clock.now())).toEqual({
      allowed: true,
      runsInHour: 1,
      runsInDay: 3,
    });
    clock.advance(HOUR_MS + MINUTE);
    const refused = await limiter.tryAcquire(rb, 'k', clock.now());
    expect(refused).toMatchObject({ allowed: false, limit: 'perTargetPerDay', runsInHour: 0, runsInDay: 3 });
    if (refused.allowed) throw new Error('unreachable');
    expect(refused.reason).toMatch(/^over perTargetPerDay \(3\/3 in the last day\)/);
    // Open until the day of the newest run has passed (run 3 was 2 h 2 min after the start).
    const start = Date.parse('2026-11-28T03:00:00Z');
    expect(refused.breakerOpenUntil.getTime()).toBe(start + 2 * (HOUR_MS + MINUTE) + DAY_MS);
    clock.advance(DAY_MS);
    expect(await limiter.tryAcquire(rb, 'k', clock.now())).toEqual({
      allowed: true,
      runsInHour: 1,
      runsInDay: 1,
    });
  });

  it('the breaker stays open for the rest of the window, past where the sliding window alone would readmit, then closes', async () => {
    fresh();
    const clock = new FakeClock();
    const start = clock.now().getTime();
    const rb = runbook({ perTargetPerHour: 3 });
    for (let i = 0; i < 3; i++) {
      expect(await limiter.tryAcquire(rb, 'k', clock.now())).toMatchObject({ allowed: true });
      clock.advance(MINUTE);
    }
    const tripped = await limiter.tryAcquire(rb, 'k', clock.now());
    if (tripped.allowed) throw new Error('expected a refusal');
    // Newest run at +2 min: open until an hour after it.
    expect(tripped.breakerOpenUntil.getTime()).toBe(start + 2 * MINUTE + HOUR_MS);

    // +61 min: two of the three runs left the hour (a bare sliding window would run again), the breaker holds.
    clock.advance(58 * MINUTE);
    const still = await limiter.tryAcquire(rb, 'k', clock.now());
    expect(still).toMatchObject({ allowed: false, limit: 'perTargetPerHour', runsInHour: 1 });
    if (still.allowed) throw new Error('unreachable');
    expect(still.breakerOpenUntil).toEqual(tripped.breakerOpenUntil);
    expect(still.reason).toBe(tripped.reason);

    clock.advance(MINUTE + 1);
    expect(clock.now().getTime()).toBeGreaterThan(tripped.breakerOpenUntil.getTime());
    expect(await limiter.tryAcquire(rb, 'k', clock.now())).toEqual({
      allowed: true,
      runsInHour: 1,
      runsInDay: 4,
    });
  });

  it('reset closes the breaker and forgets the runs', async () => {
    fresh();
    const clock = new FakeClock();
    const rb = runbook({ perTargetPerHour: 1 });
    await limiter.tryAcquire(rb, 'k', clock.now());
    expect((await limiter.tryAcquire(rb, 'k', clock.now())).allowed).toBe(false);
    await limiter.reset(rb.id, 'k');
    expect(await limiter.tryAcquire(rb, 'k', clock.now())).toEqual({
      allowed: true,
      runsInHour: 1,
      runsInDay: 1,
    });
  });

  it('50 concurrent acquirers on separate connections at limit 3: exactly 3 allowed', async () => {
    fresh();
    const clock = new FakeClock();
    const rb = runbook({ perTargetPerHour: 3 });
    const connections = Array.from({ length: 5 }, connect);
    try {
      const limiters = connections.map((c) => new RateLimiter(c, prefix));
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          limiters[i % limiters.length]!.tryAcquire(rb, 'edge', clock.now()),
        ),
      );
      const allowed = results.filter((r) => r.allowed);
      expect(allowed).toHaveLength(3);
      expect(allowed.map((r) => r.runsInHour).sort()).toEqual([1, 2, 3]);
      expect(results.filter((r) => !r.allowed)).toHaveLength(47);
      expect(await redis.zcard(`${prefix}:guard:runs:${rb.id}:edge`)).toBe(3);
    } finally {
      for (const c of connections) c.disconnect();
    }
  });

  it('escalationDue: from the afterRuns-th run in a day on, never without an escalation', () => {
    const rb = runbook({}, { escalation: { afterRuns: 3, message: 'm' } });
    expect([1, 2, 3, 4].map((n) => escalationDue(rb, n))).toEqual([false, false, true, true]);
    expect(escalationDue(runbook({}), 99)).toBe(false);
  });

  it('seed: the built-in pod restart says "pods of X keep crashing" after the 3rd restart of an owner in a day', async () => {
    fresh();
    const catalog = loadCatalog(fileURLToPath(new URL('../../runbooks', import.meta.url)));
    const podRestart = catalog.get('pod-restart')!;
    const clock = new FakeClock();
    // Each restart brings a new pod name; the limit key is the owner.
    const incident = (n: number) => ({
      id: String(n),
      check: 'pods' as const,
      target: `prod/apps/web-7d9f-${n}`,
      condition: 'CrashLoopBackOff',
      facts: {
        cluster: 'prod',
        namespace: 'apps',
        pod: `web-7d9f-${n}`,
        ownerKind: 'Deployment',
        ownerName: 'web',
      },
    });
    const said: (string | undefined)[] = [];
    for (const [n, gap] of [
      [1, 0],
      [2, 30 * MINUTE],
      [3, 90 * MINUTE],
    ] as const) {
      clock.advance(gap);
      const subject = incident(n);
      const key = limitKey(podRestart, subject);
      expect(key).toBe('apps/web');
      const acquired = await limiter.tryAcquire(podRestart, key, clock.now());
      if (!acquired.allowed) throw new Error(acquired.reason);
      const rendered = render(podRestart, subject);
      if (rendered.status !== 'ok') throw new Error('render refused');
      said.push(escalationDue(podRestart, acquired.runsInDay) ? rendered.escalationMessage : undefined);
    }
    expect(said).toEqual([
      undefined,
      undefined,
      'pods of web keep crashing: consider a memory limit increase or a code fix',
    ]);
  });
});
