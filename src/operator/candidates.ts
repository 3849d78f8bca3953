import type { Incident } from '../incidents/incident.js';
import type { Catalog } from '../runbooks/catalog.js';
import type { Runbook } from '../runbooks/runbook.js';

/**
 * The runbooks a human may choose for an incident: the one Reef proposed (or, before any proposal, the
 * best match), then the other matching runbooks, then the proposed runbook's declared alternatives.
 * Runbooks in mode `off` are never offered. Approvals and the worker both check a choice against this
 * list, so a forged or stale button value cannot run an arbitrary runbook.
 */
export function candidatesFor(
  incident: Incident,
  catalog: Catalog,
): { best: Runbook | undefined; alternatives: Runbook[] } {
  const matches = catalog.match(incident);
  const proposed = incident.proposedRunbookId ? catalog.get(incident.proposedRunbookId) : undefined;
  const best = proposed && proposed.mode !== 'off' ? proposed : matches[0];
  const alternatives: Runbook[] = [];
  const add = (runbook: Runbook | undefined) => {
    if (runbook && runbook !== best && runbook.mode !== 'off' && !alternatives.includes(runbook))
      alternatives.push(runbook);
  };
  for (const runbook of matches) add(runbook);
  for (const id of best?.alternatives ?? []) if (id !== 'escalate') add(catalog.get(id));
  return { best, alternatives };
}

/** Whether the runbook is one Reef offers for the incident (see {@link candidatesFor}). */
export function isCandidate(incident: Incident, catalog: Catalog, runbookId: string): boolean {
  const { best, alternatives } = candidatesFor(incident, catalog);
  return best?.id === runbookId || alternatives.some((r) => r.id === runbookId);
}

/** When the incident's current request for approval was made (ms since the epoch). */
export function awaitingSince(incident: Incident): number {
  for (let i = incident.history.length - 1; i >= 0; i--) {
    const entry = incident.history[i];
    if (entry?.state === 'awaiting-approval') return Date.parse(entry.at);
  }
  return Date.parse(incident.updatedAt);
}
