import type { Redis } from 'ioredis';
import type { Clock } from '../adapters/clock.js';
import type { KubePort } from '../adapters/kubernetes.js';
import type { LlmConfig } from '../config/llm-schema.js';
import { type Incident, isActive, transition } from '../incidents/incident.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Catalog } from '../runbooks/catalog.js';
import { type ContextSource, gatherContext } from './context.js';
import { createDiagnoser } from './create.js';
import type { Diagnoser, DiagnosisTrigger } from './diagnoser.js';
import type { Diagnosis } from './diagnosis.js';
import { kubeContextSource } from './kube-context.js';

/**
 * The diagnosis step of the flow (DESIGN.md §5), between the incident and the runbook match: it
 * gathers the context, asks the diagnoser, and saves the diagnosis on the incident under the
 * fingerprint lock (an open incident becomes `diagnosed`), so every later event carries it and the
 * plan can prefer its runbook. Returns the incident as saved, or as given if it closed meanwhile.
 */
export type DiagnoseStep = (
  incident: Incident,
  catalog: Catalog,
  trigger?: DiagnosisTrigger,
) => Promise<Incident>;

export interface DiagnoseStepDeps {
  diagnoser: Diagnoser;
  store: IncidentStore;
  clock: Clock;
  source?: ContextSource;
  /** Earlier incidents of the target to include. */
  pastIncidents?: number;
  /** Told when a diagnosis could not be made or saved (the decision goes ahead without it). */
  onError?: (message: string) => void;
}

/** Writes `diagnosis` onto the stored incident, re-read under its lock. */
export async function saveDiagnosis(
  store: IncidentStore,
  incident: Pick<Incident, 'id' | 'fingerprint'>,
  diagnosis: Diagnosis,
  at: Date,
): Promise<Incident | undefined> {
  return store.withLock(incident.fingerprint, async () => {
    const current = await store.get(incident.id);
    if (!current || !isActive(current)) return undefined;
    const note = `diagnosed by ${diagnosis.diagnoser}${diagnosis.fallbackReason ? ' (LLM fallback)' : ''}`;
    const moved =
      current.state === 'open' ? transition(current, 'diagnosed', at, { by: 'reef', note }) : current;
    const next: Incident = { ...moved, diagnosis };
    await store.save(next);
    return next;
  });
}

export function diagnoseStep(deps: DiagnoseStepDeps): DiagnoseStep {
  return async (incident, catalog, trigger = 'opened') => {
    try {
      const context = await gatherContext(incident, trigger, {
        candidates: catalog.match(incident),
        store: deps.store,
        ...(deps.source ? { source: deps.source } : {}),
        pastIncidents: deps.pastIncidents ?? 5,
      });
      const diagnosis = await deps.diagnoser.diagnose(context);
      return (await saveDiagnosis(deps.store, incident, diagnosis, deps.clock.now())) ?? incident;
    } catch (error) {
      deps.onError?.(
        `diagnosis of incident ${incident.id} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return incident;
    }
  };
}

/** Re-diagnoses each incident an ingest reports as worse (warning → critical): it escalated. */
export async function rediagnoseWorsened(
  events: readonly { type: string; incident: Incident }[],
  deps: { diagnose?: DiagnoseStep; catalog: Catalog },
): Promise<void> {
  if (!deps.diagnose) return;
  for (const event of events)
    if (event.type === 'worsened') await deps.diagnose(event.incident, deps.catalog, 'escalated');
}

/**
 * The diagnose step of a running Reef, from its config and shared Redis connection: Claude when
 * ANTHROPIC_API_KEY is set in `env`, the rules otherwise. A structural subset of the runtime, so this
 * module needs nothing from the layers after it.
 */
export function runtimeDiagnoseStep(
  rt: {
    config: { llm: LlmConfig; timezone: string };
    connection: Redis;
    prefix: string;
    clock: Clock;
    store: IncidentStore;
  },
  log: { warn(message: string): void },
  env: NodeJS.ProcessEnv = process.env,
  /** The clusters' API: a pod incident's events and last log lines go to the LLM (not to the rules). */
  kube?: Pick<KubePort, 'podEvents' | 'podLog'>,
): DiagnoseStep {
  const diagnoser = createDiagnoser({
    llm: rt.config.llm,
    timezone: rt.config.timezone,
    redis: rt.connection,
    prefix: rt.prefix,
    clock: rt.clock,
    env,
  });
  return diagnoseStep({
    diagnoser,
    // Evidence costs API calls: gathered only for a diagnoser that reads it.
    ...(kube && diagnoser.name === 'anthropic' ? { source: kubeContextSource(kube) } : {}),
    store: rt.store,
    clock: rt.clock,
    pastIncidents: rt.config.llm.pastIncidents,
    onError: (message) => log.warn(message),
  });
}
