import type { FactValue } from '../findings/finding.js';
import type { Incident } from '../incidents/incident.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Runbook } from '../runbooks/runbook.js';
import type { DiagnosisContext, DiagnosisTrigger, PastIncident } from './diagnoser.js';

/**
 * Where a diagnosis gets the evidence that is not in the finding itself: recent Kubernetes events
 * and log lines of the target. Optional, and best effort: a source that fails leaves its part empty
 * rather than failing the diagnosis (the decision must still happen).
 */
export interface ContextSource {
  events?(incident: Incident): Promise<string[]>;
  logs?(incident: Incident): Promise<string[]>;
}

/** How many incidents are read back to find the earlier ones of a target. */
const HISTORY_SCAN = 200;

/** Log lines a finding already carries: an error-log spike's samples and top messages, a pod's message. */
export function logLinesInFacts(incident: Incident): string[] {
  const facts = incident.facts;
  const lines: string[] = [];
  const strings = (value: FactValue | undefined) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  lines.push(...strings(facts.samples));
  if (Array.isArray(facts.topMessages)) {
    for (const top of facts.topMessages)
      if (top && typeof top === 'object' && !Array.isArray(top) && 'message' in top)
        lines.push(`(×${String(top.count ?? '?')}) ${String(top.message)}`);
  }
  if (typeof facts.message === 'string') lines.push(facts.message);
  return lines;
}

async function safely(get: (() => Promise<string[]>) | undefined): Promise<string[]> {
  if (!get) return [];
  try {
    return (await get()).filter((l) => typeof l === 'string');
  } catch {
    return [];
  }
}

/** Earlier incidents of the same check and target, most recent first. */
export async function pastIncidentsOf(
  store: IncidentStore,
  incident: Incident,
  limit: number,
): Promise<PastIncident[]> {
  if (limit <= 0) return [];
  const recent = await store.list({ limit: HISTORY_SCAN });
  return recent
    .filter((i) => i.id !== incident.id && i.check === incident.check && i.target === incident.target)
    .slice(0, limit)
    .map((i) => ({
      id: i.id,
      condition: i.condition,
      state: i.state,
      openedAt: i.openedAt,
      ...(i.durationMs === undefined ? {} : { durationMs: i.durationMs }),
      summary: i.summary,
      ...(i.diagnosis ? { diagnosis: i.diagnosis.summary } : {}),
    }));
}

export async function gatherContext(
  incident: Incident,
  trigger: DiagnosisTrigger,
  deps: {
    candidates: readonly Runbook[];
    store: IncidentStore;
    source?: ContextSource;
    pastIncidents: number;
  },
): Promise<DiagnosisContext> {
  const source = deps.source;
  const [events, logs, pastIncidents] = await Promise.all([
    safely(source?.events ? () => source.events!(incident) : undefined),
    safely(source?.logs ? () => source.logs!(incident) : undefined),
    pastIncidentsOf(deps.store, incident, deps.pastIncidents).catch(() => []),
  ]);
  return {
    incident,
    candidates: deps.candidates,
    trigger,
    events,
    logLines: [...logLinesInFacts(incident), ...logs],
    pastIncidents,
  };
}
