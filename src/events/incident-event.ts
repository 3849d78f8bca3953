import type { Incident } from '../incidents/incident.js';

export const INCIDENT_EVENT_TYPES = [
  'opened',
  'worsened',
  'resolved',
  'flapping',
  'dismissed',
  'approval-unavailable',
  /** A runbook in mode approve matched: a human is asked (the plan is in `note`). */
  'awaiting-approval',
  /** A runbook in mode suggest matched: proposed only. */
  'suggested',
  /** One approval of a high-risk runbook recorded; another approver is needed (who, in `by`). */
  'approved',
  /** A human silenced the incident for a while (until `incident.silencedUntil`). */
  'silenced',
  'executing',
  /** One step finished (its summary is in `note`). */
  'step',
  /** The steps ran; the originating check runs again after the runbook's `verify.after`. */
  'verifying',
  /** The originating check passed after a run: the fix held. */
  'verified',
  /** Handed to a human: no runbook, a refusal, a limit, a failed step or a failed verification. */
  'escalated',
] as const;
export type IncidentEventType = (typeof INCIDENT_EVENT_TYPES)[number];

/** Something a human should hear about an incident. Chat surfaces render these; nothing else does. */
export interface IncidentEvent {
  type: IncidentEventType;
  incident: Incident;
  /** ISO-8601. */
  at: string;
  /** Who caused it, for operator actions (`cli:alice`, a Slack user id). */
  by?: string;
  note?: string;
}
