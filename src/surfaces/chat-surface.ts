import type { IncidentEvent } from '../events/incident-event.js';

/**
 * Where Reef talks to humans. The console surface prints; the Slack surface posts and updates one
 * message per incident. Surfaces render events; they never decide anything.
 */
export interface ChatSurface {
  readonly name: string;
  notify(event: IncidentEvent): Promise<void>;
  /** Free text for humans (start-up banner, sweep summaries). */
  say(text: string): Promise<void>;
}
