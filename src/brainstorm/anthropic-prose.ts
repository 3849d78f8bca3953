import type { Redis } from 'ioredis';
import type { AnthropicPort } from '../adapters/anthropic.js';
import type { Clock } from '../adapters/clock.js';
import type { LlmConfig } from '../config/llm-schema.js';
import { CostLedger } from '../diagnosis/ledger.js';
import type { ProseWriter } from './prose.js';

/**
 * Claude writes the Brainstorm's prose summary when ANTHROPIC_API_KEY is set: one forced tool call
 * (`write_summary`) over the computed report, redacted before it leaves (see `proseInput`). Its cost
 * goes to the same ledger as diagnoses (under `brainstorm`), and a spent monthly budget means no call.
 * The answer is then checked number by number against the report (`writeProse`).
 */

const SYSTEM = [
  'You write the opening paragraph of a nightly infrastructure report for the engineers on call.',
  'The report was computed by code; you are given its data as JSON.',
  'Write 2 to 4 plain sentences: what needs attention first and why, then what is fine.',
  'Use only numbers that appear in the data, written the same way. Never estimate, round differently or invent a number.',
  'No headings, no lists, no Markdown.',
].join(' ');

const TOOL = {
  name: 'write_summary',
  description: 'Hand back the summary paragraph.',
  inputSchema: {
    type: 'object' as const,
    properties: { summary: { type: 'string', description: 'The paragraph, 2 to 4 sentences.' } },
    required: ['summary'],
    additionalProperties: false,
  },
};

export function anthropicProseWriter(options: {
  /** The Messages API port, created on first use (the SDK takes a second to load). */
  port: () => Promise<AnthropicPort>;
  llm: LlmConfig;
  ledger: CostLedger;
  clock: Clock;
}): ProseWriter {
  const { port, llm, ledger, clock } = options;
  return {
    async summarize(facts) {
      const spent = (await ledger.spent(clock.now())).month.costUsd;
      if (spent >= llm.monthlyBudgetUsd)
        throw new Error(
          `this month's LLM budget is spent ($${spent.toFixed(2)} of $${llm.monthlyBudgetUsd.toFixed(2)})`,
        );
      const reply = await (await port()).createMessage({
        model: llm.model,
        maxTokens: Math.min(llm.maxTokens, 800),
        system: SYSTEM,
        prompt: `Report data:\n${facts}`,
        tool: TOOL,
      });
      const block = reply.content.find((b) => b.type === 'tool_use' && 'input' in b);
      const summary = block && 'input' in block ? (block.input as { summary?: unknown }).summary : undefined;
      await ledger.record(
        {
          incidentId: 'brainstorm',
          fingerprint: 'brainstorm',
          model: reply.model,
          inputTokens: reply.usage.inputTokens,
          outputTokens: reply.usage.outputTokens,
          failed: typeof summary !== 'string',
        },
        clock.now(),
      );
      if (typeof summary !== 'string') throw new Error('the model did not call write_summary with a summary');
      return summary;
    },
  };
}

/** The writer for a process: Claude when ANTHROPIC_API_KEY is set, none otherwise (the code's summary stands). */
export function proseWriterFrom(options: {
  llm: LlmConfig;
  timezone: string;
  redis: Redis;
  prefix: string;
  clock: Clock;
  env?: NodeJS.ProcessEnv;
}): ProseWriter | undefined {
  const env = options.env ?? process.env;
  // As anthropicKeyFrom reads it, without loading the SDK for processes that have no key.
  const apiKey = env.ANTHROPIC_API_KEY?.trim();
  if (!apiKey) return undefined;
  const baseUrl = env.ANTHROPIC_BASE_URL?.trim() || options.llm.baseUrl;
  if (baseUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(baseUrl)) return undefined;
  let port: Promise<AnthropicPort> | undefined;
  return anthropicProseWriter({
    port: () => {
      port ??= import('../adapters/anthropic.js').then((m) =>
        m.createAnthropicPort({
          apiKey,
          ...(baseUrl ? { baseUrl } : {}),
          timeoutMs: options.llm.timeoutMs,
          maxRetries: options.llm.maxRetries,
        }),
      );
      return port;
    },
    llm: options.llm,
    ledger: new CostLedger(options.redis, options.prefix, {
      timezone: options.timezone,
      prices: options.llm.prices,
    }),
    clock: options.clock,
  });
}
