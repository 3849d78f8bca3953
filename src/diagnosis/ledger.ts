import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';
import type { Redis } from 'ioredis';

dayjs.extend(utc);
dayjs.extend(timezone);

/**
 * What the LLM costs, in Redis: per call (a capped stream), per incident, per day and per month
 * (days and months in the configured time zone). Dollars are estimates from `llm.prices` and are
 * kept as integer micro-dollars so concurrent workers can add with HINCRBY and never lose a cent to
 * rounding. `reef status` reads today and this month; the budget check reads this month.
 *
 * Keys: `llm:cost:day:<YYYY-MM-DD>`, `llm:cost:month:<YYYY-MM>`, `llm:cost:incident:<id>` (hashes),
 * `llm:calls` (stream).
 */

export interface LlmTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Calls that failed (timeout, API error, invalid answer) — their tokens count when known. */
  failures: number;
  /** Diagnoses answered from the cache: calls saved. */
  cacheHits: number;
  /** Diagnoses left to the rules because the month's budget was spent. */
  budgetSkips: number;
}

export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

export interface LlmCall {
  incidentId: string;
  fingerprint: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** The call produced no usable answer. */
  failed: boolean;
}

const DAY_MS = 86_400_000;
const CALLS_MAX = 5000;

export function emptyTotals(): LlmTotals {
  return { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, failures: 0, cacheHits: 0, budgetSkips: 0 };
}

/** A period's totals from its Redis hash (the ledger's own fields; `/metrics` reads them too). */
export function totalsOf(hash: Record<string, string>): LlmTotals {
  const n = (k: string) => Number(hash[k] ?? 0) || 0;
  return {
    calls: n('calls'),
    inputTokens: n('inputTokens'),
    outputTokens: n('outputTokens'),
    costUsd: n('microUsd') / 1e6,
    failures: n('failures'),
    cacheHits: n('cacheHits'),
    budgetSkips: n('budgetSkips'),
  };
}

function periodKeys(prefix: string, at: Date, tz: string): { day: string; month: string } {
  const local = dayjs(at).tz(tz);
  return {
    day: `${prefix}:llm:cost:day:${local.format('YYYY-MM-DD')}`,
    month: `${prefix}:llm:cost:month:${local.format('YYYY-MM')}`,
  };
}

/** Today's and this month's totals, for `reef status` (no prices needed). */
export async function readLlmSpend(
  redis: Redis,
  prefix: string,
  tz: string,
  at: Date,
): Promise<{ today: LlmTotals; month: LlmTotals }> {
  const keys = periodKeys(prefix, at, tz);
  const [today, month] = await Promise.all([redis.hgetall(keys.day), redis.hgetall(keys.month)]);
  return { today: totalsOf(today), month: totalsOf(month) };
}

export class CostLedger {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: { timezone: string; prices: Readonly<Record<string, ModelPrice>> },
  ) {}

  /** Estimated US dollars for a call, in micro-dollars; 0 for a model without a price. */
  microUsdOf(model: string, inputTokens: number, outputTokens: number): number {
    const price = this.options.prices[model];
    if (!price) return 0;
    return Math.round(inputTokens * price.inputPerMTok + outputTokens * price.outputPerMTok);
  }

  /** Adds one call to its day, month and incident, and appends it to the call log. Returns its cost. */
  async record(call: LlmCall, at: Date): Promise<number> {
    const micro = this.microUsdOf(call.model, call.inputTokens, call.outputTokens);
    const { day, month } = periodKeys(this.prefix, at, this.options.timezone);
    const incident = `${this.prefix}:llm:cost:incident:${call.incidentId}`;
    const tx = this.redis.multi();
    for (const key of [day, month, incident]) {
      tx.hincrby(key, 'calls', 1);
      tx.hincrby(key, 'inputTokens', call.inputTokens);
      tx.hincrby(key, 'outputTokens', call.outputTokens);
      tx.hincrby(key, 'microUsd', micro);
      if (call.failed) tx.hincrby(key, 'failures', 1);
    }
    tx.pexpire(day, 400 * DAY_MS);
    tx.pexpire(month, 800 * DAY_MS);
    tx.pexpire(incident, 90 * DAY_MS);
    tx.xadd(
      `${this.prefix}:llm:calls`,
      'MAXLEN',
      '~',
      String(CALLS_MAX),
      '*',
      'call',
      JSON.stringify({ ...call, costUsd: micro / 1e6, at: at.toISOString() }),
    );
    await tx.exec();
    return micro / 1e6;
  }

  /** Counts a diagnosis that cost nothing: a cache hit, or a budget skip. */
  async count(what: 'cacheHits' | 'budgetSkips', at: Date): Promise<void> {
    const { day, month } = periodKeys(this.prefix, at, this.options.timezone);
    await this.redis
      .multi()
      .hincrby(day, what, 1)
      .hincrby(month, what, 1)
      .pexpire(day, 400 * DAY_MS)
      .pexpire(month, 800 * DAY_MS)
      .exec();
  }

  async spent(at: Date): Promise<{ today: LlmTotals; month: LlmTotals }> {
    return readLlmSpend(this.redis, this.prefix, this.options.timezone, at);
  }

  async forIncident(incidentId: string): Promise<LlmTotals> {
    return totalsOf(await this.redis.hgetall(`${this.prefix}:llm:cost:incident:${incidentId}`));
  }
}
