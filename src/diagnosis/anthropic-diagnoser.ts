import { AnthropicCallError, type AnthropicPort } from '../adapters/anthropic.js';
import type { Clock } from '../adapters/clock.js';
import type { LlmConfig } from '../config/llm-schema.js';
import { redactText } from '../secrets/redact.js';
import { answerTool, readAnswer } from './answer.js';
import type { DiagnosisCache } from './cache.js';
import type { Diagnoser, DiagnosisContext } from './diagnoser.js';
import type { Diagnosis } from './diagnosis.js';
import type { CostLedger } from './ledger.js';
import { buildPrompt, PROMPT_LIMITS, SYSTEM_PROMPT } from './prompt.js';
import { clip, MAX_CAUSE_CHARS, MAX_SUMMARY_CHARS, type RuleDiagnoser } from './rule-diagnoser.js';

export interface AnthropicDiagnoserDeps {
  port: AnthropicPort;
  rules: RuleDiagnoser;
  cache: DiagnosisCache;
  ledger: CostLedger;
  clock: Clock;
  llm: Pick<LlmConfig, 'model' | 'maxTokens' | 'monthlyBudgetUsd' | 'timeoutMs' | 'logLines'>;
}

/**
 * Claude as a diagnoser, inside fences. In order: a cached answer for the same fingerprint, trigger
 * and candidates is reused (no call); a spent monthly budget leaves the incident to the rules; one
 * process per question calls the model (others wait for its answer); the reply must be exactly one
 * valid `submit_diagnosis` call naming a candidate or `null`. Anything else — no tool call, an
 * unknown id, malformed input, a timeout, a 429/5xx/529, a refused key — returns the rule diagnosis
 * with `fallbackReason` saying why. The model's text is redacted and clipped, and only ever shown.
 */
export class AnthropicDiagnoser implements Diagnoser {
  readonly name = 'anthropic' as const;

  constructor(private readonly deps: AnthropicDiagnoserDeps) {}

  async diagnose(context: DiagnosisContext): Promise<Diagnosis> {
    const { cache, ledger, clock, llm, rules } = this.deps;
    const candidates = context.candidates.slice(0, PROMPT_LIMITS.candidates);
    const ids = candidates.map((r) => r.id);
    const scoped: DiagnosisContext = { ...context, candidates };
    const key = cache.key(context.incident.fingerprint, context.trigger, ids);
    const now = clock.now();

    const cached = await cache.get(key);
    if (cached) {
      await ledger.count('cacheHits', now);
      return { ...cached, cached: true };
    }
    const spent = (await ledger.spent(now)).month.costUsd;
    if (spent >= llm.monthlyBudgetUsd) {
      await ledger.count('budgetSkips', now);
      return rules.explain(
        scoped,
        `LLM not asked: this month's budget is spent ($${spent.toFixed(2)} of $${llm.monthlyBudgetUsd.toFixed(2)}); rules only until next month or a higher llm.monthlyBudgetUsd`,
      );
    }
    const claimMs = llm.timeoutMs + 5000;
    const token = await cache.claim(key, claimMs);
    if (!token) {
      const answer = await cache.waitFor(key, claimMs);
      if (answer) {
        await ledger.count('cacheHits', clock.now());
        return { ...answer, cached: true };
      }
      return rules.explain(
        scoped,
        'LLM not asked: another Reef process was diagnosing the same problem and gave no answer in time',
      );
    }
    try {
      return await this.ask(scoped, ids, key);
    } finally {
      await cache.release(key, token);
    }
  }

  private async ask(context: DiagnosisContext, ids: string[], key: string): Promise<Diagnosis> {
    const { port, cache, ledger, clock, llm, rules } = this.deps;
    const incident = context.incident;
    let reply: Awaited<ReturnType<AnthropicPort['createMessage']>>;
    try {
      reply = await port.createMessage({
        model: llm.model,
        maxTokens: llm.maxTokens,
        system: SYSTEM_PROMPT,
        prompt: buildPrompt(context, { logLines: llm.logLines }),
        tool: answerTool(ids),
      });
    } catch (error) {
      const why = error instanceof AnthropicCallError ? error.message : String(error);
      await ledger.record(
        {
          incidentId: incident.id,
          fingerprint: incident.fingerprint,
          model: llm.model,
          inputTokens: 0,
          outputTokens: 0,
          failed: true,
        },
        clock.now(),
      );
      return rules.explain(context, `LLM answer not used: ${why}; showing the rule diagnosis`);
    }
    const checked = readAnswer(reply.content, ids);
    const costUsd = await ledger.record(
      {
        incidentId: incident.id,
        fingerprint: incident.fingerprint,
        model: llm.model,
        inputTokens: reply.usage.inputTokens,
        outputTokens: reply.usage.outputTokens,
        failed: !checked.ok,
      },
      clock.now(),
    );
    const usage = { inputTokens: reply.usage.inputTokens, outputTokens: reply.usage.outputTokens, costUsd };
    let diagnosis: Diagnosis;
    if (!checked.ok) {
      const reason =
        reply.stopReason === 'max_tokens'
          ? `${checked.reason} (cut off at llm.maxTokens ${llm.maxTokens})`
          : checked.reason;
      diagnosis = {
        ...rules.explain(context, `LLM answer not used: ${reason}; showing the rule diagnosis`),
        usage,
      };
    } else {
      const answer = checked.answer;
      diagnosis = {
        summary: clip(redactText(answer.summary), MAX_SUMMARY_CHARS),
        probableCause: clip(redactText(answer.probableCause), MAX_CAUSE_CHARS),
        confidence: Math.round(answer.confidence * 100) / 100,
        recommendedRunbookId: answer.recommendedRunbookId,
        alternativeRunbookIds: answer.alternativeRunbookIds,
        diagnoser: 'anthropic',
        at: clock.now().toISOString(),
        model: reply.model || llm.model,
        usage,
      };
    }
    // An invalid answer would most likely be invalid again: keep the fallback for the TTL too, so a
    // reopening problem is not paid for twice. API failures above are not cached: nothing was spent.
    await cache.put(key, diagnosis);
    return diagnosis;
  }
}
