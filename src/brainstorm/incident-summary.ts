import type { IncidentHistoryEntry } from '../history/incident-history.js';
import type { IncidentSummary } from './report.js';

/**
 * The last 24 hours of incidents, counted once per incident for each outcome: opened, fixed
 * automatically (a mode-auto run whose verification passed), approved (a human asked for a run),
 * escalated, dismissed, resolved, and the mean time to resolve of those resolved.
 */
export function summarizeIncidents(entries: readonly IncidentHistoryEntry[]): IncidentSummary {
  const ids = (match: (e: IncidentHistoryEntry) => boolean) =>
    new Set(entries.filter(match).map((e) => e.id));
  const opened = ids((e) => e.type === 'opened' || e.type === 'flapping');
  const automatic = ids((e) => (e.type === 'verified' || e.type === 'resolved') && e.runBy === 'reef');
  const approved = ids((e) => e.type === 'executing' && e.by !== undefined && e.by !== 'reef');
  const resolved = new Map<string, IncidentHistoryEntry>();
  for (const e of entries) if (e.type === 'resolved') resolved.set(e.id, e);
  const durations = [...resolved.values()]
    .map((e) => e.durationMs)
    .filter((d): d is number => typeof d === 'number');
  const openedByCheck: Record<string, number> = {};
  const counted = new Set<string>();
  for (const e of entries) {
    if (!opened.has(e.id) || counted.has(e.id)) continue;
    counted.add(e.id);
    openedByCheck[e.check] = (openedByCheck[e.check] ?? 0) + 1;
  }
  return {
    opened: opened.size,
    fixedAutomatically: automatic.size,
    approved: approved.size,
    escalated: ids((e) => e.type === 'escalated').size,
    dismissed: ids((e) => e.type === 'dismissed').size,
    resolved: resolved.size,
    recoveredOnTheirOwn: [...resolved.values()].filter((e) => e.runBy === undefined).length,
    mttrMs:
      durations.length === 0 ? null : Math.round(durations.reduce((a, b) => a + b, 0) / durations.length),
    openedByCheck,
  };
}
