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

/** The best matching runbook and its rendered steps; every other match is an alternative. */
export function planFor(incident: Incident, catalog: Catalog): { plan: Plan; alternatives: Runbook[] } {
  const [best, ...others] = catalog.match(incident);
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
