import type { Incident } from '../incidents/incident.js';
import type { Catalog } from './catalog.js';
import { formatRenderProblems, render } from './render.js';
import type { Runbook } from './runbook.js';

/** What Reef would do about an incident, from its runbooks, before any guardrail or approval. */
export type Plan =
  | { decision: 'escalate'; reason: string; runbook?: undefined }
  | { decision: 'refuse'; runbook: Runbook; reason: string; problems: string[] }
  | {
      decision: 'run' | 'ask' | 'suggest';
      runbook: Runbook;
      steps: { description: string; mutates: boolean }[];
    };

/**
 * What the incident's diagnosis asks of the plan: the runbook to prefer among the matches, `null`
 * when the LLM judged that none fits (a human decides), or undefined (no preference: the most
 * specific match wins). A rule diagnosis recommends the most specific match anyway, and its `null`
 * only means "nothing matched", so it never overrides the matching.
 */
export function preferenceOf(incident: Pick<Incident, 'diagnosis'>): string | null | undefined {
  const diagnosis = incident.diagnosis;
  if (!diagnosis) return undefined;
  if (diagnosis.recommendedRunbookId === null) return diagnosis.diagnoser === 'anthropic' ? null : undefined;
  return diagnosis.recommendedRunbookId;
}

/**
 * The best matching runbook and its rendered steps; every other match is an alternative. `preferred`
 * (by default from the incident's diagnosis) puts one matching runbook first; an id that does not
 * match is ignored, so a diagnosis can only choose among the matches. `null` escalates with the
 * diagnosis as the reason, the matches kept as alternatives for the human.
 */
export function planFor(
  incident: Incident,
  catalog: Catalog,
  preferred: string | null | undefined = preferenceOf(incident),
): { plan: Plan; alternatives: Runbook[] } {
  const matches = catalog.match(incident);
  if (preferred === null && matches.length > 0) {
    return {
      plan: {
        decision: 'escalate',
        reason: `the diagnosis recommends that a human decides (${incident.diagnosis?.summary ?? 'no summary'})`,
      },
      alternatives: matches,
    };
  }
  const chosen = preferred ? matches.find((r) => r.id === preferred) : undefined;
  const [best, ...others] = chosen ? [chosen, ...matches.filter((r) => r !== chosen)] : matches;
  if (!best) {
    return {
      plan: {
        decision: 'escalate',
        reason: `no runbook matches ${incident.check} ${incident.condition}: a human decides`,
      },
      alternatives: [],
    };
  }
  const rendered = render(best, incident);
  if (rendered.status === 'refused') {
    return {
      plan: {
        decision: 'refuse',
        runbook: best,
        reason: "the incident's facts cannot safely fill its steps, so it is escalated",
        problems: formatRenderProblems(best, rendered.problems),
      },
      alternatives: others,
    };
  }
  const decision = best.mode === 'auto' ? 'run' : best.mode === 'approve' ? 'ask' : 'suggest';
  return {
    plan: {
      decision,
      runbook: best,
      steps: rendered.steps.map((s) => ({ description: s.description, mutates: s.mutates })),
    },
    alternatives: others,
  };
}
