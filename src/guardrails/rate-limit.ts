import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Runbook } from '../runbooks/runbook.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Which of a runbook's limits tripped the breaker. */
export type LimitName = 'perTargetPerHour' | 'perTargetPerDay';

export type AcquireResult =
  | {
      allowed: true;
      /** Runs of this runbook on this limit key within the last hour and day, this one included. */
      runsInHour: number;
      runsInDay: number;
    }
  | {
      allowed: false;
      /** `over perTargetPerHour (3/3 in the last hour); breaker open until 2026-11-28T04:02:00.000Z: escalate` */
      reason: string;
      limit: LimitName;
      /** Nothing runs for this (runbook, key) before this instant. */
      breakerOpenUntil: Date;
      runsInHour: number;
      runsInDay: number;
    };

/**
 * One script so that pruning, counting, the breaker and recording a run are a single step for Redis:
 * fifty workers racing for the last slot see one winner, whatever process they run in.
 *
 * KEYS[1] runs (sorted set, score = run time) · KEYS[2] breaker (hash: until, limit, count, max)
 * ARGV now, perHour, perDay (0 = none), member
 * Returns { 1, hour, day } or { 0, hour, day, until, limit, count, max }.
 */
const ACQUIRE = `
local now = tonumber(ARGV[1])
local perHour = tonumber(ARGV[2])
local perDay = tonumber(ARGV[3])
redis.call('zremrangebyscore', KEYS[1], '-inf', now - ${DAY_MS})
local hour = redis.call('zcount', KEYS[1], '(' .. (now - ${HOUR_MS}), '+inf')
local day = redis.call('zcard', KEYS[1])
local open = redis.call('hmget', KEYS[2], 'until', 'limit', 'count', 'max')
if open[1] and tonumber(open[1]) > now then
  return { 0, hour, day, open[1], open[2], open[3], open[4] }
end
local limit, count, max, window = nil, 0, 0, 0
if perDay > 0 and day >= perDay then
  limit, count, max, window = 'perTargetPerDay', day, perDay, ${DAY_MS}
elseif hour >= perHour then
  limit, count, max, window = 'perTargetPerHour', hour, perHour, ${HOUR_MS}
end
if limit then
  local newest = redis.call('zrevrange', KEYS[1], 0, 0, 'withscores')[2]
  local untilMs = (tonumber(newest) or now) + window
  redis.call('hset', KEYS[2], 'until', untilMs, 'limit', limit, 'count', count, 'max', max)
  redis.call('pexpire', KEYS[2], math.max(untilMs - now, 1))
  return { 0, hour, day, tostring(untilMs), limit, count, max }
end
redis.call('zadd', KEYS[1], now, ARGV[4])
redis.call('pexpire', KEYS[1], ${DAY_MS})
return { 1, hour + 1, day + 1 }
`;

/**
 * Per-target run limits of runbooks, with a circuit breaker, in Redis. Runs are counted per
 * (runbook id, limit key) — the key is `limitKey(runbook, incident)`, so a restarted pod that comes back
 * under a new name still counts against its owner.
 *
 * Keys (under the prefix): `guard:runs:<runbook>:<key>` run times (a sorted set pruned to a day) ·
 * `guard:breaker:<runbook>:<key>` the open breaker.
 *
 * Time comes from the caller (`now`), never from Redis, so the windows follow the injected clock;
 * Redis expiry only collects the garbage.
 */
export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private keys(runbookId: string, key: string): [string, string] {
    return [
      `${this.prefix}:guard:runs:${runbookId}:${key}`,
      `${this.prefix}:guard:breaker:${runbookId}:${key}`,
    ];
  }

  /**
   * Counts one run of `runbook` on `key` at `now` if its limits allow it, atomically across processes.
   * Refused when the last hour (or day, with `perTargetPerDay`) already holds the limit, or while the
   * breaker is open. A refusal opens the breaker until the window that hit the limit has fully drained
   * (the newest counted run plus the window): a sliding window alone would readmit one run each time
   * the oldest ages out, so a fix that does not hold would keep running at the limit rate forever.
   * Refused means no action and escalate to a human.
   *
   * Call it after taking the target lock and just before the first step: a counted run is one that started.
   */
  async tryAcquire(runbook: Runbook, key: string, now: Date): Promise<AcquireResult> {
    const { perTargetPerHour, perTargetPerDay } = runbook.limits;
    const reply = (await this.redis.eval(
      ACQUIRE,
      2,
      ...this.keys(runbook.id, key),
      now.getTime(),
      perTargetPerHour,
      perTargetPerDay ?? 0,
      `${now.getTime()}:${randomUUID()}`,
    )) as [number, number, number, string?, string?, string?, string?];
    const [allowed, runsInHour, runsInDay, until, limit, count, max] = reply;
    if (allowed === 1) return { allowed: true, runsInHour, runsInDay };
    const breakerOpenUntil = new Date(Number(until));
    const name = limit as LimitName;
    const window = name === 'perTargetPerDay' ? 'day' : 'hour';
    return {
      allowed: false,
      reason: `over ${name} (${count}/${max} in the last ${window}); breaker open until ${breakerOpenUntil.toISOString()}: no action, escalate to a human`,
      limit: name,
      breakerOpenUntil,
      runsInHour,
      runsInDay,
    };
  }

  /** Closes the breaker and forgets the counted runs: for an operator who fixed the cause by hand. */
  async reset(runbookId: string, key: string): Promise<void> {
    await this.redis.del(...this.keys(runbookId, key));
  }
}

/**
 * Whether the runbook's `escalation.message` is due: its `afterRuns`-th run (or later) on the same
 * limit key within a day, counting the run just acquired. Every run past the threshold says it again:
 * the humans were told and the problem is still coming back.
 */
export function escalationDue(runbook: Pick<Runbook, 'escalation'>, runsInDay: number): boolean {
  return runbook.escalation !== undefined && runsInDay >= runbook.escalation.afterRuns;
}
