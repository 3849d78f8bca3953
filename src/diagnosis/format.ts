import type { Diagnosis } from './diagnosis.js';

/**
 * One line for a surface: who diagnosed, how sure, what and why, and, when the LLM was asked but
 * its answer was not used, that the rules answered instead and why. Text only: nothing in it is
 * ever executed.
 */
export function diagnosisLine(diagnosis: Diagnosis): string {
  const who =
    diagnosis.diagnoser === 'anthropic' ? `Claude${diagnosis.model ? ` (${diagnosis.model})` : ''}` : 'rules';
  const sure = `${Math.round(diagnosis.confidence * 100)}% sure`;
  const recommends =
    diagnosis.recommendedRunbookId === null
      ? 'recommends a human decides'
      : `recommends ${diagnosis.recommendedRunbookId}`;
  const fallback = diagnosis.fallbackReason ? ` [${diagnosis.fallbackReason}]` : '';
  return `diagnosis by ${who}, ${sure}, ${recommends}: ${diagnosis.summary} Cause: ${diagnosis.probableCause}${fallback}`;
}
