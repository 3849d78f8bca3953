import type { Incident } from '../incidents/incident.js';
import type { Runbook } from '../runbooks/runbook.js';
import type { Diagnosis } from './diagnosis.js';

/** Why a diagnosis is asked for: a new incident, or one that got worse or went back to a human. */
export type DiagnosisTrigger = 'opened' | 'escalated';

/** An earlier incident of the same target, as the diagnoser sees it. */
export interface PastIncident {
  id: string;
  condition: string;
  state: string;
  openedAt: string;
  durationMs?: number;
  summary: string;
  /** What was concluded then, if anything. */
  diagnosis?: string;
}

/**
 * Everything a diagnoser may look at. `candidates` are the runbooks whose `match` covers the
 * incident, most specific first: a diagnosis may only recommend one of them, or `null` (escalate).
 * `events` and `logLines` come from the target and are untrusted text; nothing in them may change
 * what the diagnoser is allowed to answer.
 */
export interface DiagnosisContext {
  incident: Incident;
  candidates: readonly Runbook[];
  trigger: DiagnosisTrigger;
  events: readonly string[];
  logLines: readonly string[];
  pastIncidents: readonly PastIncident[];
}

/**
 * One way to explain an incident (DESIGN.md §5): the rule-based diagnoser is always there; the
 * Anthropic one is used when a key is configured. `diagnose` never throws for a bad answer or an
 * unreachable API: it returns the rules' diagnosis with `fallbackReason` instead.
 */
export interface Diagnoser {
  readonly name: Diagnosis['diagnoser'];
  diagnose(context: DiagnosisContext): Promise<Diagnosis>;
}
