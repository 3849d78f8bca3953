import type { Incident } from '../incidents/incident.js';
import type { FlapRow } from './report.js';

/**
 * Targets that keep opening and resolving: fingerprints opened at least `threshold` times within the
 * flap window ending with the report. Counted from the incidents themselves, so the openings the
 * tracker keeps quiet once a target flaps are counted too.
 */
export function flappingTargets(
  incidents: readonly Incident[],
  to: number,
  windowMs: number,
  threshold: number,
): FlapRow[] {
  const byFingerprint = new Map<string, Incident[]>();
  for (const i of incidents) {
    const opened = Date.parse(i.openedAt);
    if (opened < to - windowMs || opened >= to) continue;
    const list = byFingerprint.get(i.fingerprint) ?? [];
    list.push(i);
    byFingerprint.set(i.fingerprint, list);
  }
  const rows: FlapRow[] = [];
  for (const list of byFingerprint.values()) {
    if (list.length < threshold) continue;
    const last = list.reduce((a, b) => (Date.parse(a.openedAt) >= Date.parse(b.openedAt) ? a : b));
    rows.push({
      check: last.check,
      target: last.target,
      condition: last.condition,
      openings: list.length,
      lastSummary: last.summary,
    });
  }
  return rows.sort((a, b) => b.openings - a.openings || a.target.localeCompare(b.target));
}
