import type { AuditRecord } from '../audit/audit-entry.js';
import type { PromotionRow, RunbookFailureRow } from './report.js';

/**
 * What the audit log says about runbooks. A promotion candidate is a runbook in mode `approve` whose
 * latest requests for approval, N in a row, were each approved as proposed (no alternative chosen) and
 * each verified afterwards; a dismissal, an alternative, an expiry or a failure starts the count over.
 * A failed runbook is one whose step failed, whose run was interrupted or whose verification failed.
 */

type Outcome = 'success' | 'broken' | 'pending';

interface Request {
  runbookId: string;
  at: number;
  incidentId: string;
}

export function promotionCandidates(
  entries: readonly AuditRecord[],
  promoteAfter: number,
  modeOf: (runbookId: string) => string | null,
): PromotionRow[] {
  const byIncident = groupByIncident(entries);
  const requests: Request[] = [];
  for (const [incidentId, list] of byIncident) {
    const first = list.find((e) => e.action === 'approval-requested' && e.runbookId);
    if (first) requests.push({ runbookId: first.runbookId!, at: Date.parse(first.at), incidentId });
  }
  requests.sort((a, b) => a.at - b.at);
  const streaks = new Map<string, number>();
  for (const request of requests) {
    const outcome = outcomeOf(request, byIncident.get(request.incidentId) ?? []);
    if (outcome === 'pending') continue;
    streaks.set(request.runbookId, outcome === 'success' ? (streaks.get(request.runbookId) ?? 0) + 1 : 0);
  }
  const rows: PromotionRow[] = [];
  for (const [runbookId, streak] of streaks) {
    const mode = modeOf(runbookId);
    if (streak >= promoteAfter && (mode === null || mode === 'approve'))
      rows.push({ runbookId, streak, mode });
  }
  return rows.sort((a, b) => b.streak - a.streak || a.runbookId.localeCompare(b.runbookId));
}

function outcomeOf(request: Request, entries: readonly AuditRecord[]): Outcome {
  const later = entries.filter((e) => Date.parse(e.at) >= request.at);
  const ofRunbook = (e: AuditRecord) => e.runbookId === request.runbookId;
  if (later.some((e) => e.action === 'approval' && e.runbookId && !ofRunbook(e))) return 'broken';
  if (later.some((e) => e.action === 'dismissal' || e.action === 'approval-expired')) return 'broken';
  if (later.some((e) => ofRunbook(e) && isFailure(e))) return 'broken';
  const approved = later.some((e) => e.action === 'approval' && ofRunbook(e));
  const verified = later.some((e) => e.action === 'verification' && ofRunbook(e) && resultOf(e) === 'passed');
  if (approved && verified) return 'success';
  return 'pending';
}

export function failedRunbooks(
  entries: readonly AuditRecord[],
  from: number,
  to: number,
): RunbookFailureRow[] {
  const rows = new Map<string, RunbookFailureRow & { incidents: Set<string> }>();
  for (const e of entries) {
    const at = Date.parse(e.at);
    if (!e.runbookId || at < from || at >= to || !isFailure(e)) continue;
    const row = rows.get(e.runbookId) ?? {
      runbookId: e.runbookId,
      failures: 0,
      lastReason: '',
      lastAt: e.at,
      incidents: new Set<string>(),
    };
    row.incidents.add(e.incidentId ?? e.id);
    row.failures = row.incidents.size;
    if (Date.parse(row.lastAt) <= at) {
      row.lastAt = e.at;
      row.lastReason = e.why;
    }
    rows.set(e.runbookId, row);
  }
  return [...rows.values()]
    .map(({ incidents: _, ...row }) => row)
    .sort((a, b) => b.failures - a.failures || a.runbookId.localeCompare(b.runbookId));
}

function isFailure(e: AuditRecord): boolean {
  if (e.action === 'execution-interrupted') return true;
  if (e.action === 'verification') return resultOf(e) === 'failed';
  if (e.action === 'step') return e.why.startsWith('failed');
  return false;
}

function resultOf(e: AuditRecord): unknown {
  return e.details?.result;
}

function groupByIncident(entries: readonly AuditRecord[]): Map<string, AuditRecord[]> {
  const map = new Map<string, AuditRecord[]>();
  for (const e of entries) {
    if (!e.incidentId) continue;
    const list = map.get(e.incidentId) ?? [];
    list.push(e);
    map.set(e.incidentId, list);
  }
  return map;
}
