import type { AuditLog } from '../audit/audit-log.js';
import type { DiagnoseStep } from '../diagnosis/step.js';
import type { EventBus } from '../events/event-bus.js';
import type { IncidentEventType } from '../events/incident-event.js';
import { canTransition, type Incident, type IncidentState, transition } from '../incidents/incident.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Catalog } from '../runbooks/catalog.js';

/** Fields a move may set along with the state. */
type MovePatch = 'proposedRunbookId' | 'silencedUntil' | 'diagnosis';

/**
 * Moves an incident under its fingerprint lock, re-reading it first: a sweep or a watch event may have
 * resolved it while a runbook ran, and that newer truth wins. Returns undefined (and changes nothing)
 * when the move is no longer allowed from the state found.
 */
export async function moveIncident(
  store: IncidentStore,
  incident: Pick<Incident, 'id' | 'fingerprint'>,
  to: IncidentState,
  at: Date,
  details: { by?: string; note?: string; patch?: Partial<Pick<Incident, MovePatch>> } = {},
): Promise<Incident | undefined> {
  const { patch, ...entry } = details;
  return store.withLock(incident.fingerprint, async () => {
    const current = await store.get(incident.id);
    if (!current || !canTransition(current.state, to)) return undefined;
    const next = { ...transition(current, to, at, entry), ...patch };
    await store.save(next, to === 'resolved' ? { releaseFingerprint: true } : {});
    return next;
  });
}

/** Publishes one event about an incident (events never fail the work they report). */
export async function announce(
  bus: EventBus,
  type: IncidentEventType,
  incident: Incident,
  at: Date,
  extra: { by?: string; note?: string } = {},
): Promise<void> {
  await bus.publish([{ type, incident, at: at.toISOString(), ...extra }]);
}

/**
 * Hands an incident to a human: audited first (an unrecorded escalation must not happen silently),
 * then moved to `escalated` when its state allows, then announced with the reason.
 */
export async function escalate(
  deps: {
    store: IncidentStore;
    bus: EventBus;
    audit: AuditLog;
    clock: { now(): Date };
    /** With `rediagnose`: the diagnosis step (rules, or the LLM), run again for the escalation. */
    diagnose?: DiagnoseStep;
    catalog?: Catalog;
  },
  incident: Incident,
  why: string,
  extra: {
    runbookId?: string;
    details?: Record<string, unknown>;
    /**
     * A run or its verification failed: what was believed no longer holds, so the incident is diagnosed
     * again (DESIGN: the LLM sees new and escalated incidents) before a human hears of it.
     */
    rediagnose?: boolean;
  } = {},
): Promise<Incident> {
  const now = deps.clock.now();
  await deps.audit.record({
    actor: 'reef',
    action: 'escalation',
    incidentId: incident.id,
    fingerprint: incident.fingerprint,
    target: `${incident.check}/${incident.target}`,
    why,
    ...(extra.runbookId ? { runbookId: extra.runbookId } : {}),
    ...(extra.details ? { details: extra.details } : {}),
  });
  const moved = await moveIncident(deps.store, incident, 'escalated', now, { by: 'reef', note: why });
  let shown = moved ?? (await deps.store.get(incident.id)) ?? incident;
  if (moved && extra.rediagnose && deps.diagnose && deps.catalog)
    shown = await deps.diagnose(moved, deps.catalog, 'escalated');
  await announce(deps.bus, 'escalated', shown, now, { note: why });
  return shown;
}
