import type { Incident } from '../../incidents/incident.js';
import { isActive } from '../../incidents/incident.js';
import { type Catalog, loadCatalog } from '../../runbooks/catalog.js';
import { runbooksDirOf } from '../../runbooks/location.js';
import { planFor } from '../../runbooks/plan.js';
import type { Runtime } from '../../runtime/runtime.js';
import { type CliIo, print } from '../io.js';

export function loadCatalogFor(rt: Runtime, env: NodeJS.ProcessEnv): Catalog {
  return loadCatalog(runbooksDirOf(rt.loaded, env));
}

const DECISION_TEXT = {
  run: 'run at once (mode auto)',
  ask: 'ask a human to approve (mode approve)',
  suggest: 'propose only (mode suggest)',
} as const;

/** `reef plan <incident>`: the decision and the exact steps, API calls and argv included. */
export function printPlan(incident: Incident, catalog: Catalog, io: CliIo, json: boolean): void {
  const { plan, alternatives } = planFor(incident, catalog);
  if (json) {
    print(
      io.out,
      JSON.stringify({
        incident: incident.id,
        decision: plan.decision,
        runbook: plan.runbook?.id ?? null,
        ...(plan.decision === 'escalate' || plan.decision === 'refuse' ? { reason: plan.reason } : {}),
        ...(plan.decision === 'refuse' ? { problems: plan.problems } : {}),
        ...('steps' in plan ? { steps: plan.steps } : {}),
        alternatives: alternatives.map((r) => r.id),
      }),
    );
    return;
  }
  print(
    io.out,
    `Incident #${incident.id}: ${incident.check}/${incident.target} ${incident.condition} (${incident.state})`,
  );
  if (!isActive(incident)) print(io.out, `It is ${incident.state}: nothing would run now.`);
  switch (plan.decision) {
    case 'escalate':
      print(io.out, `Decision: escalate — ${plan.reason}.`);
      break;
    case 'refuse':
      print(io.out, `Runbook: ${plan.runbook.id} (${plan.runbook.title})`);
      print(io.out, `Decision: refuse and escalate — ${plan.reason}:`);
      for (const p of plan.problems) print(io.out, `  - ${p}`);
      break;
    default:
      print(io.out, `Runbook: ${plan.runbook.id} (${plan.runbook.title}), risk ${plan.runbook.risk}`);
      print(io.out, `Decision: ${DECISION_TEXT[plan.decision]}. Steps:`);
      for (const [i, s] of plan.steps.entries()) {
        print(io.out, `  ${i + 1}. ${s.description}${s.mutates ? '' : '  (read-only)'}`);
      }
  }
  if (alternatives.length > 0)
    print(io.out, `Alternatives: ${alternatives.map((r) => r.id).join(', ')}, escalate`);
}
