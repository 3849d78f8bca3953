import type { Redis } from 'ioredis';
import { anthropicKeyFrom } from '../adapters/anthropic.js';
import type { LlmConfig } from '../config/llm-schema.js';
import { type LlmTotals, readLlmSpend } from './ledger.js';

/** What `reef status` (and `/reef status`, the digest) say about the LLM: who diagnoses, and its spend. */
export interface LlmStatus {
  /** `anthropic` when ANTHROPIC_API_KEY is set, else `rules`. */
  diagnoser: 'anthropic' | 'rules';
  model: string;
  monthlyBudgetUsd: number;
  today: LlmTotals;
  month: LlmTotals;
  budgetSpent: boolean;
}

export async function readLlmStatus(
  options: { redis: Redis; prefix: string; timezone: string; llm: LlmConfig; now: Date },
  env: NodeJS.ProcessEnv = process.env,
): Promise<LlmStatus> {
  const { today, month } = await readLlmSpend(options.redis, options.prefix, options.timezone, options.now);
  return {
    diagnoser: anthropicKeyFrom(env) ? 'anthropic' : 'rules',
    model: options.llm.model,
    monthlyBudgetUsd: options.llm.monthlyBudgetUsd,
    today,
    month,
    budgetSpent: month.costUsd >= options.llm.monthlyBudgetUsd,
  };
}

const usd = (n: number) => `$${n < 1 && n > 0 ? n.toFixed(4) : n.toFixed(2)}`;
const tokens = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(0)}k` : String(n));

function period(t: LlmTotals): string {
  const saved = t.cacheHits > 0 ? `, ${t.cacheHits} from cache` : '';
  const failed = t.failures > 0 ? `, ${t.failures} not used` : '';
  return `${usd(t.costUsd)} (${t.calls} call${t.calls === 1 ? '' : 's'}${failed}${saved}, ${tokens(t.inputTokens)} tokens in / ${tokens(t.outputTokens)} out)`;
}

/** `LLM diagnosis: claude-sonnet-5-5 — today $0.0123 (2 calls, …), this month $1.20 of $20.00`. */
export function formatLlmStatus(status: LlmStatus): string {
  const who =
    status.diagnoser === 'anthropic'
      ? status.model
      : 'rules only (set ANTHROPIC_API_KEY to let Claude diagnose)';
  const spent = status.budgetSpent ? ' — budget spent: rules only until next month' : '';
  return `LLM diagnosis: ${who}; today ${period(status.today)}; this month ${period(status.month)} of $${status.monthlyBudgetUsd.toFixed(2)} budget${spent}`;
}

/**
 * One short line for `/reef status` and the digest (`spendToday` in the Slack commands):
 * `$0.0150 today (1 call), $1.20 of $20.00 this month`, or who diagnoses when nothing was spent.
 */
export function spendLine(status: LlmStatus): string {
  const calls = status.today.calls;
  const head = `${usd(status.today.costUsd)} today (${calls} call${calls === 1 ? '' : 's'}), ${usd(status.month.costUsd)} of $${status.monthlyBudgetUsd.toFixed(2)} this month`;
  if (status.diagnoser === 'rules') return `${head}; rule-based diagnosis only (no ANTHROPIC_API_KEY)`;
  return status.budgetSpent ? `${head}; budget spent, rules only` : head;
}
