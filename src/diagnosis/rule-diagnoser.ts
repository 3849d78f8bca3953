import type { Clock } from '../adapters/clock.js';
import { redactText } from '../secrets/redact.js';
import type { Diagnoser, DiagnosisContext } from './diagnoser.js';
import type { Diagnosis } from './diagnosis.js';
import { explain } from './rule-explanations.js';

/** Longest text a diagnosis field may hold; surfaces show it in one message. */
export const MAX_SUMMARY_CHARS = 600;
export const MAX_CAUSE_CHARS = 1200;

export function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * The diagnoser that is always there: it explains the incident from its facts (`rule-explanations.ts`)
 * and recommends the most specific matching runbook, exactly what the decision would pick without
 * it, so running on rules alone changes nothing about what Reef does. With no candidate it
 * recommends `null`: a human decides. Past openings of the same problem lower its confidence in a
 * fix that evidently did not hold.
 */
export class RuleDiagnoser implements Diagnoser {
  readonly name = 'rules' as const;

  constructor(private readonly clock: Clock) {}

  async diagnose(context: DiagnosisContext): Promise<Diagnosis> {
    return this.explain(context);
  }

  /** Synchronous, so a fallback never waits on anything. */
  explain(context: DiagnosisContext, fallbackReason?: string): Diagnosis {
    const { incident, candidates } = context;
    const explanation = explain(incident);
    const best = candidates[0];
    const repeats = context.pastIncidents.filter((p) => p.condition === incident.condition).length;
    const history =
      repeats > 0
        ? ` The same problem opened ${repeats} time${repeats === 1 ? '' : 's'} before on this target.`
        : '';
    const plan = best
      ? ` Proposed: runbook ${best.id} (${best.title}).`
      : ' No runbook matches: a human decides.';
    let confidence = best ? explanation.confidence : Math.min(explanation.confidence, 0.5);
    if (repeats >= 2) confidence = Math.max(0.1, confidence - 0.2);
    return {
      summary: clip(redactText(`${capitalise(explanation.headline)}.${plan}`), MAX_SUMMARY_CHARS),
      probableCause: clip(redactText(`${capitalise(explanation.cause)}.${history}`), MAX_CAUSE_CHARS),
      confidence: Math.round(confidence * 100) / 100,
      recommendedRunbookId: best?.id ?? null,
      alternativeRunbookIds: candidates.slice(1).map((r) => r.id),
      diagnoser: 'rules',
      ...(fallbackReason ? { fallbackReason: clip(redactText(fallbackReason), 300) } : {}),
      at: this.clock.now().toISOString(),
    };
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
