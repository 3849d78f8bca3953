import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

/**
 * The `llm:` section of reef.yaml: which model diagnoses incidents, what it may cost, and how long an
 * answer is reused. The API key never lives here (ANTHROPIC_API_KEY comes from the environment);
 * without it the rule-based diagnoser answers alone and this section only sets defaults.
 */

/** A current Sonnet-class model from the SDK's model list (`@anthropic-ai/sdk` 1.14). */
export const DEFAULT_LLM_MODEL = 'claude-sonnet-5-5';

/**
 * US dollars per million tokens. Check them against Anthropic's price list for your model and
 * contract: the ledger only multiplies, it cannot know your discounts.
 */
export const DEFAULT_LLM_PRICES = {
  [DEFAULT_LLM_MODEL]: { inputPerMTok: 3, outputPerMTok: 15 },
} as const;

const duration = z.string().refine((text) => parseDuration(text) !== undefined, {
  message: 'invalid duration (use e.g. 30s, 15m, 1h, 2d)',
});

const price = z.strictObject({
  inputPerMTok: z.number().nonnegative().describe('US dollars per million input tokens.'),
  outputPerMTok: z.number().nonnegative().describe('US dollars per million output tokens.'),
});

const DEFAULTS = {
  provider: 'anthropic' as const,
  model: DEFAULT_LLM_MODEL,
  maxTokens: 1024,
  cacheTtl: '24h',
  monthlyBudgetUsd: 20,
  prices: { ...DEFAULT_LLM_PRICES },
  timeoutMs: 30_000,
  maxRetries: 2,
  logLines: 40,
  pastIncidents: 5,
};

export const llmConfigSchema = z
  .strictObject({
    provider: z.literal('anthropic').default('anthropic'),
    model: z.string().min(1).default(DEFAULT_LLM_MODEL).describe('Model id, e.g. claude-sonnet-5-5.'),
    maxTokens: z.number().int().min(256).max(8192).default(1024).describe('Output tokens per diagnosis.'),
    cacheTtl: duration
      .default('24h')
      .describe('How long a diagnosis is reused for the same fingerprint before the model is asked again.'),
    monthlyBudgetUsd: z
      .number()
      .nonnegative()
      .default(20)
      .describe(
        'Estimated spend per calendar month (in the configured time zone) after which only rules run.',
      ),
    prices: z
      .record(z.string().min(1), price)
      .default({ ...DEFAULT_LLM_PRICES })
      .describe('US dollars per million tokens, by model id; the model in use must have an entry.'),
    baseUrl: z
      .url({ protocol: /^https?$/, error: 'Invalid URL (must be an http:// or https:// URL)' })
      .optional()
      .describe('Messages API base URL, for a proxy or gateway (default https://api.anthropic.com).'),
    timeoutMs: z.number().int().min(1000).max(600_000).default(30_000).describe('Deadline per API call.'),
    maxRetries: z
      .number()
      .int()
      .min(0)
      .max(5)
      .default(2)
      .describe('Retries on 429, 5xx and 529 (overloaded).'),
    logLines: z.number().int().min(0).max(500).default(40).describe('Last log lines sent with an incident.'),
    pastIncidents: z.number().int().min(0).max(50).default(5).describe('Past incidents of the target sent.'),
  })
  .superRefine((llm, ctx) => {
    if (llm.prices[llm.model]) return;
    ctx.addIssue({
      code: 'custom',
      path: ['model'],
      message: `no price for model "${llm.model}": add llm.prices["${llm.model}"]: { inputPerMTok: …, outputPerMTok: … } (US dollars per million tokens) so the budget can be kept`,
    });
  })
  .default(DEFAULTS)
  .describe('The LLM diagnoser (used when ANTHROPIC_API_KEY is set; rules answer otherwise).');

export type LlmConfig = z.output<typeof llmConfigSchema>;
