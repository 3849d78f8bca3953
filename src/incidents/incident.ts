import type { Diagnosis } from '../diagnosis/diagnosis.js';
import { ReefError } from '../errors.js';
import type { CheckKind, Facts, Severity } from '../findings/finding.js';

export const INCIDENT_STATES = [
  'open',
  'diagnosed',
  'awaiting-approval',
  'executing',
  'verifying',
  'resolved',
  'failed',
  'escalated',
  'dismissed',
  'silenced',
] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

/** States after which the incident never changes again. */
export const TERMINAL_STATES: ReadonlySet<IncidentState> = new Set(['resolved', 'dismissed']);

/** The lifecycle of DESIGN.md; any other move is a bug or a stale click and is refused. */
const TRANSITIONS: Readonly<Record<IncidentState, readonly IncidentState[]>> = {
  open: ['diagnosed', 'awaiting-approval', 'executing', 'escalated', 'resolved', 'dismissed', 'silenced'],
  diagnosed: ['awaiting-approval', 'executing', 'escalated', 'resolved', 'dismissed', 'silenced'],
  'awaiting-approval': ['executing', 'escalated', 'resolved', 'dismissed', 'silenced'],
  executing: ['verifying', 'failed', 'resolved', 'escalated'],
  verifying: ['resolved', 'failed', 'escalated'],
  failed: ['awaiting-approval', 'escalated', 'resolved', 'dismissed', 'silenced'],
  escalated: ['awaiting-approval', 'executing', 'resolved', 'dismissed', 'silenced'],
  silenced: ['open', 'resolved', 'dismissed'],
  resolved: [],
  dismissed: [],
};

export function canTransition(from: IncidentState, to: IncidentState): boolean {
  return TRANSITIONS[from].includes(to);
}

export interface IncidentHistoryEntry {
  at: string;
  state: IncidentState;
  by?: string;
  note?: string;
}

/**
 * One problem (one fingerprint) from the moment it is seen until it resolves or is dismissed.
 * While it lasts, further findings update it instead of announcing it again.
 */
export interface Incident {
  /** Short sequential id, what operators type (`reef dismiss 42`). */
  id: string;
  fingerprint: string;
  check: CheckKind;
  target: string;
  /** The configured target of the probe that found it (a cluster for a pod, a host for a mount). */
  probe?: string;
  condition: string;
  state: IncidentState;
  severity: Severity;
  summary: string;
  facts: Facts;
  openedAt: string;
  updatedAt: string;
  lastSeenAt: string;
  /** Findings folded into this incident. */
  occurrences: number;
  resolvedAt?: string;
  /** Open → resolved, in milliseconds. */
  durationMs?: number;
  /** For a dismissed incident: when its target recovered (the fingerprint may then open a new incident). */
  recoveredAt?: string;
  /** Openings of this fingerprint within the flap window, this one included. */
  openingsInWindow: number;
  flapping: boolean;
  /** The runbook Reef asked a human to approve (set when the incident moved to awaiting-approval). */
  proposedRunbookId?: string;
  /** The latest diagnosis (rules or LLM), once one ran. */
  diagnosis?: Diagnosis;
  /** While silenced: until when (ISO-8601); the next finding after it re-opens the conversation. */
  silencedUntil?: string;
  history: IncidentHistoryEntry[];
}

const HISTORY_LIMIT = 50;

/** Returns the incident moved to `to`, or throws `reef_invalid_transition` naming the current state. */
export function transition(
  incident: Incident,
  to: IncidentState,
  at: Date,
  details: { by?: string; note?: string } = {},
): Incident {
  if (!canTransition(incident.state, to)) {
    throw new ReefError(
      'reef_invalid_transition',
      `Incident ${incident.id} is ${incident.state}; it cannot become ${to}`,
      {
        hint:
          incident.state === 'resolved' || incident.state === 'dismissed'
            ? 'It is already closed; nothing to do.'
            : `From ${incident.state} it can become: ${TRANSITIONS[incident.state].join(', ')}.`,
      },
    );
  }
  const iso = at.toISOString();
  const entry: IncidentHistoryEntry = { at: iso, state: to, ...details };
  const next: Incident = {
    ...incident,
    state: to,
    updatedAt: iso,
    history: [...incident.history, entry].slice(-HISTORY_LIMIT),
  };
  if (to === 'resolved') {
    next.resolvedAt = iso;
    next.durationMs = at.getTime() - Date.parse(incident.openedAt);
  }
  return next;
}

export function isActive(incident: Pick<Incident, 'state'>): boolean {
  return !TERMINAL_STATES.has(incident.state);
}
