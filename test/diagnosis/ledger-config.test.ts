import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LLM_MODEL } from '../../src/config/llm-schema.js';
import { parseConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { CostLedger } from '../../src/diagnosis/ledger.js';
import { formatLlmStatus, readLlmStatus, spendLine } from '../../src/diagnosis/llm-status.js';
import { ReefError } from '../../src/errors.js';
import { connect, dropPrefix, uniquePrefix } from '../helpers/redis.js';

describe('cost ledger (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  beforeEach(() => {
    redis = connect();
    prefix = uniquePrefix('ledger');
  });
  afterEach(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });
  const prices = { m: { inputPerMTok: 3, outputPerMTok: 15 } };
  const call = (incidentId: string, inputTokens: number, outputTokens: number) => ({
    incidentId,
    fingerprint: 'fp',
    model: 'm',
    inputTokens,
    outputTokens,
    failed: false,
  });

  it('adds calls per incident, per local day and per local month, to the micro-dollar, from concurrent writers', async () => {
    const berlin = new CostLedger(redis, prefix, { timezone: 'Europe/Berlin', prices });
    const lastNovember = new Date('2026-11-30T22:30:00Z'); // 23:30 in Berlin
    const firstDecember = new Date('2026-11-30T23:30:00Z'); // 00:30 on 1 December in Berlin
    await berlin.record(call('1', 2000, 300), lastNovember);
    await Promise.all(Array.from({ length: 40 }, () => berlin.record(call('2', 1000, 100), firstDecember)));
    const november = await berlin.spent(lastNovember);
    const december = await berlin.spent(firstDecember);
    expect(november.today).toMatchObject({ calls: 1, inputTokens: 2000, outputTokens: 300 });
    expect(november.month.costUsd).toBeCloseTo((2000 * 3 + 300 * 15) / 1e6, 9);
    expect(december.month).toMatchObject({ calls: 40, inputTokens: 40_000, outputTokens: 4000 });
    expect(december.month.costUsd).toBeCloseTo((40 * (1000 * 3 + 100 * 15)) / 1e6, 9);
    expect(await berlin.forIncident('2')).toMatchObject({ calls: 40, inputTokens: 40_000 });
    expect(await redis.xlen(`${prefix}:llm:calls`)).toBe(41);
  });

  it('reef status says who diagnoses and what it cost today and this month', async () => {
    const llm = configSchema.parse({ llm: { monthlyBudgetUsd: 0.01 } }).llm;
    const ledger = new CostLedger(redis, prefix, { timezone: 'UTC', prices: llm.prices });
    const now = new Date('2026-11-28T10:00:00Z');
    await ledger.record({ ...call('1', 3000, 400), model: DEFAULT_LLM_MODEL }, now);
    await ledger.count('cacheHits', now);
    const withKey = await readLlmStatus(
      { redis, prefix, timezone: 'UTC', llm, now },
      { ANTHROPIC_API_KEY: 'k' },
    );
    expect(withKey).toMatchObject({
      diagnoser: 'anthropic',
      budgetSpent: true,
      today: { calls: 1, cacheHits: 1 },
    });
    expect(formatLlmStatus(withKey)).toBe(
      'LLM diagnosis: claude-sonnet-5-5; today $0.0150 (1 call, 1 from cache, 3000 tokens in / 400 out); this month $0.0150 (1 call, 1 from cache, 3000 tokens in / 400 out) of $0.01 budget — budget spent: rules only until next month',
    );
    expect(spendLine(withKey)).toBe(
      '$0.0150 today (1 call), $0.0150 of $0.01 this month; budget spent, rules only',
    );
    const without = await readLlmStatus({ redis, prefix, timezone: 'UTC', llm, now }, {});
    expect(formatLlmStatus(without)).toMatch(
      /^LLM diagnosis: rules only \(set ANTHROPIC_API_KEY to let Claude diagnose\)/,
    );
  });
});

describe('llm config', () => {
  function problems(text: string): string[] {
    try {
      parseConfig(text, 'reef.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(ReefError);
      return [...(error as ReefError).details];
    }
    throw new Error('expected the config to be rejected');
  }

  it('defaults to a current Sonnet model with a price, a budget and a cache TTL', () => {
    expect(configSchema.parse({}).llm).toMatchObject({
      provider: 'anthropic',
      model: 'claude-sonnet-5-5',
      maxTokens: 1024,
      cacheTtl: '24h',
      monthlyBudgetUsd: 20,
      prices: { 'claude-sonnet-5-5': { inputPerMTok: 3, outputPerMTok: 15 } },
    });
  });

  it('a model without a price, a bad URL and a bad TTL are each reported with their line and path', () => {
    expect(
      problems(`llm:
  model: claude-opus-5-5
  baseUrl: "ftp://proxy"
  cacheTtl: soon
`).sort(),
    ).toEqual([
      expect.stringMatching(
        /^line 2: llm\.model: no price for model "claude-opus-5-5": add llm\.prices\["claude-opus-5-5"\]/,
      ),
      expect.stringMatching(/^line 3: llm\.baseUrl: Invalid URL/),
      expect.stringMatching(/^line 4: llm\.cacheTtl: invalid duration/),
    ]);
  });

  it('a priced model is accepted', () => {
    const llm = configSchema.parse({
      llm: {
        model: 'claude-opus-5-5',
        prices: { 'claude-opus-5-5': { inputPerMTok: 15, outputPerMTok: 75 } },
      },
    }).llm;
    expect(llm.model).toBe('claude-opus-5-5');
  });
});
