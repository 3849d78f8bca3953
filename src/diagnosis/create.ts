import type { Redis } from 'ioredis';
import { type AnthropicPort, anthropicKeyFrom, createAnthropicPort } from '../adapters/anthropic.js';
import type { Clock } from '../adapters/clock.js';
import type { LlmConfig } from '../config/llm-schema.js';
import { parseDuration } from '../util/duration.js';
import { AnthropicDiagnoser } from './anthropic-diagnoser.js';
import { DiagnosisCache } from './cache.js';
import type { Diagnoser, DiagnosisContext } from './diagnoser.js';
import type { Diagnosis } from './diagnosis.js';
import { CostLedger } from './ledger.js';
import { RuleDiagnoser } from './rule-diagnoser.js';

/** The rules, saying on every diagnosis why the LLM was not asked (a setup mistake, not an outage). */
class FixedFallback implements Diagnoser {
  readonly name = 'rules' as const;
  constructor(
    private readonly rules: RuleDiagnoser,
    private readonly reason: string,
  ) {}
  async diagnose(context: DiagnosisContext): Promise<Diagnosis> {
    return this.rules.explain(context, this.reason);
  }
}

/**
 * Picks the diagnoser for a process: Claude (with the rules behind it) when ANTHROPIC_API_KEY is set,
 * the rules alone otherwise. The only place that reads the key; `ANTHROPIC_BASE_URL` (for a proxy)
 * wins over `llm.baseUrl`, as environment settings do elsewhere. Tests pass a `port` for a local
 * stand-in of the Messages API, or just set `llm.baseUrl`.
 */
export function createDiagnoser(options: {
  llm: LlmConfig;
  timezone: string;
  redis: Redis;
  prefix: string;
  clock: Clock;
  env?: NodeJS.ProcessEnv;
  port?: AnthropicPort;
}): Diagnoser {
  const { llm, clock } = options;
  const env = options.env ?? process.env;
  const rules = new RuleDiagnoser(clock);
  const apiKey = anthropicKeyFrom(env);
  if (!options.port && !apiKey) return rules;
  const baseUrl = env.ANTHROPIC_BASE_URL?.trim() || llm.baseUrl;
  if (baseUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(baseUrl))
    return new FixedFallback(
      rules,
      `LLM not asked: ANTHROPIC_BASE_URL "${baseUrl.slice(0, 80)}" is not an http(s) URL; fix it or unset it`,
    );
  const port =
    options.port ??
    createAnthropicPort({
      apiKey: apiKey!,
      ...(baseUrl ? { baseUrl } : {}),
      timeoutMs: llm.timeoutMs,
      maxRetries: llm.maxRetries,
    });
  return new AnthropicDiagnoser({
    port,
    rules,
    cache: new DiagnosisCache(options.redis, options.prefix, parseDuration(llm.cacheTtl) ?? 86_400_000),
    ledger: new CostLedger(options.redis, options.prefix, { timezone: options.timezone, prices: llm.prices }),
    clock,
    llm,
  });
}
