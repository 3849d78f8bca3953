import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';
import type { Redis } from 'ioredis';
import { emptyTotals, type LlmTotals, totalsOf } from '../diagnosis/ledger.js';

dayjs.extend(utc);
dayjs.extend(timezone);

/** The ledger keeps a month's hash 800 days: this many months cover all it keeps. */
export const LEDGER_MONTHS = 27;

/**
 * LLM use summed over every month the cost ledger keeps (src/diagnosis/ledger.ts: one hash per month,
 * `llm:cost:month:<YYYY-MM>` in the configured time zone, written by every worker with HINCRBY), plus
 * this month's alone. The months are named, not scanned, so a scrape reads 27 small hashes in one
 * round trip whatever the size of Redis. The sum only grows until a month older than 800 days expires,
 * which Prometheus' rate() treats as a counter reset.
 */
export async function readLlmTotals(
  redis: Redis,
  prefix: string,
  tz: string,
  now: Date,
): Promise<{ total: LlmTotals; month: LlmTotals }> {
  // The time zone is applied once (it is the slow part); earlier months are plain arithmetic.
  const [year, month0] = dayjs(now).tz(tz).format('YYYY-M').split('-').map(Number) as [number, number];
  const tx = redis.multi();
  for (let i = 0; i < LEDGER_MONTHS; i++) {
    const m = year * 12 + (month0 - 1) - i;
    tx.hgetall(`${prefix}:llm:cost:month:${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`);
  }
  const replies = (await tx.exec()) ?? [];
  const total = emptyTotals();
  let month = emptyTotals();
  replies.forEach(([, hash], i) => {
    const t = totalsOf((hash ?? {}) as Record<string, string>);
    if (i === 0) month = t;
    for (const k of Object.keys(total) as (keyof LlmTotals)[]) total[k] += t[k];
  });
  return { total, month };
}
