import type { Incident } from '../incidents/incident.js';

export const INCIDENT_EVENT_TYPES = [
  'opened',
  'worsened',
  'resolved',
  'flapping',
  'dismissed',
  'approval-unavailable',
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
