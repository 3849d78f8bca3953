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
  /** The morning Brainstorm digest: a short summary plus the full Markdown report. */
  postDigest?(digest: Digest): Promise<void>;
}

export interface Digest {
  /** e.g. "Nightly Brainstorm — 2026-11-28". */
  title: string;
  /** A few lines for the channel (what a human reads over coffee). */
  summary: string;
  /** The whole report. */
  markdown: string;
  /** Where the report was written in Reef's memory, relative to it (memory/brainstorm/2026-11-28.md). */
  path?: string;
}
