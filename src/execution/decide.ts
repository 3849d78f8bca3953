import type { Queue } from 'bullmq';
import type { Clock } from '../adapters/clock.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { DiagnoseStep } from '../diagnosis/step.js';
import type { EventBus } from '../events/event-bus.js';
import type { Incident } from '../incidents/incident.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Catalog } from '../runbooks/catalog.js';
import { planFor } from '../runbooks/plan.js';
import { mapLimit } from '../util/concurrency.js';
import { announce, escalate, moveIncident } from './incident-moves.js';
import { type ExecutionJobData, enqueueExpiry, enqueueRun } from './queue.js';

export interface DecideDeps {
  catalog: Catalog;
  store: IncidentStore;
  bus: EventBus;
  audit: AuditLog;
  clock: Clock;
  queue: Queue<ExecutionJobData>;
  /** How long a request for approval stays valid (`approvals.expireAfter`; default 30 minutes). */
  expireAfterMs?: number;
  /** Diagnoses the incident first and saves the diagnosis on it (absent: decide from the match alone). */
  diagnose?: DiagnoseStep;
}

export const DEFAULT_EXPIRE_AFTER_MS = 30 * 60_000;

export type Decision = 'run' | 'ask' | 'suggest' | 'escalate' | 'refuse';

/**
 * What Reef does about a newly opened incident, from its best matching runbook's mode (see `planFor`):
 * `auto` queues the run (the guardrails apply in the worker), `approve` asks a human, `suggest` only
 * proposes, no match or unsafe facts escalate with the finding's context. Every decision is audited
 * before it takes effect.
 */
export async function decide(incident: Incident, deps: DecideDeps): Promise<Decision> {
  // The diagnosis (rules, or Claude when configured) is saved on the incident; `planFor` prefers its
  // runbook among the matches, or escalates when the LLM says none fits.
  if (deps.diagnose) incident = await deps.diagnose(incident, deps.catalog);
  const { plan, alternatives } = planFor(incident, deps.catalog);
  const base = {
    actor: 'reef',
    incidentId: incident.id,
    fingerprint: incident.fingerprint,
    target: `${incident.check}/${incident.target}`,
    ...(plan.runbook ? { runbookId: plan.runbook.id } : {}),
  };
  const context = `${incident.check}/${incident.target} ${incident.condition}: ${incident.summary}`;
  if (plan.decision === 'escalate') {
    await deps.audit.record({ ...base, action: 'decision', why: `escalate: ${plan.reason}` });
    await escalate(deps, incident, `${plan.reason} — ${context}`, { details: { facts: incident.facts } });
    return 'escalate';
  }
  if (plan.decision === 'refuse') {
    const why = `refuse: ${plan.reason}: ${plan.problems.join('; ')}`;
    await deps.audit.record({ ...base, action: 'decision', why });
    await deps.audit.record({ ...base, action: 'step-refused', why, details: { problems: plan.problems } });
    await escalate(deps, incident, why, { runbookId: plan.runbook.id });
    return 'refuse';
  }
  const steps = plan.steps.map((s, i) => `${i + 1}. ${s.description}`).join(' ');
  const others =
    alternatives.length > 0 ? ` (alternatives: ${alternatives.map((r) => r.id).join(', ')})` : '';
  await deps.audit.record({
    ...base,
    action: 'decision',
    why: `${plan.decision}: runbook ${plan.runbook.id} (mode ${plan.runbook.mode})${others}`,
    details: { steps: plan.steps.map((s) => s.description) },
  });
  if (plan.decision === 'run') {
    await enqueueRun(deps.queue, incident.id, plan.runbook.id, 'reef');
    return 'run';
  }
  const note = `runbook ${plan.runbook.id} (${plan.runbook.title}, risk ${plan.runbook.risk}): ${steps}`;
  if (plan.decision === 'suggest') {
    await announce(deps.bus, 'suggested', incident, deps.clock.now(), { note });
    return 'suggest';
  }
  await deps.audit.record({ ...base, action: 'approval-requested', why: note });
  const askedAt = deps.clock.now();
  const asked = await moveIncident(deps.store, incident, 'awaiting-approval', askedAt, {
    by: 'reef',
    note: `runbook ${plan.runbook.id}`,
    patch: { proposedRunbookId: plan.runbook.id },
  });
  if (asked) {
    await enqueueExpiry(
      deps.queue,
      asked.id,
      plan.runbook.id,
      askedAt.getTime(),
      deps.expireAfterMs ?? DEFAULT_EXPIRE_AFTER_MS,
    );
  }
  await announce(deps.bus, 'awaiting-approval', asked ?? incident, deps.clock.now(), { note });
  return 'ask';
}

/** Decides about each incident an ingest just opened (updates and resolutions need no decision). */
export async function decideOpened(
  events: readonly { type: string; incident: Incident }[],
  deps: DecideDeps,
): Promise<void> {
  // Side by side (a few at a time): each decision may wait on the LLM, and one slow answer must not
  // hold up the others. Incidents are independent (one fingerprint each, locked on its own).
  const opened = events.filter((e) => e.type === 'opened');
  const failures: unknown[] = [];
  await mapLimit(opened, DECISIONS_AT_ONCE, (event) =>
    decide(event.incident, deps).catch((error: unknown) => void failures.push(error)),
  );
  if (failures.length > 0) throw failures[0];
}

const DECISIONS_AT_ONCE = 4;
