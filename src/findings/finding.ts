import { createHash } from 'node:crypto';

export const SEVERITIES = ['ok', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CHECK_KINDS = ['http', 'certificate', 'pods', 'disk', 'errorLogs', 'alert'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/**
 * Checks whose findings are pushed to Reef from outside (Alertmanager's webhook: src/intake/) instead of
 * probed by a sweep. No sweep speaks for their incidents: only their own source opens and resolves them.
 */
export const PUSHED_CHECK_KINDS: ReadonlySet<CheckKind> = new Set<CheckKind>(['alert']);

export type FactValue =
  | string
  | number
  | boolean
  | null
  | readonly FactValue[]
  | { readonly [key: string]: FactValue };
export type Facts = Record<string, FactValue>;

/**
 * What one check observed about one target. `fingerprint` is stable for the same problem on the same
 * target (check + target + condition): it is the dedup key for incidents, diagnosis caching and silences.
 */
export interface Finding {
  check: CheckKind;
  target: string;
  condition: string;
  severity: Severity;
  summary: string;
  facts: Facts;
  fingerprint: string;
  /** ISO-8601 timestamp. */
  observedAt: string;
}

/** A check that could not do its job (as opposed to a target found unhealthy). */
export interface CheckError {
  check: CheckKind;
  target: string;
  message: string;
}

export function fingerprintOf(check: string, target: string, condition: string): string {
  return createHash('sha256').update(`${check}\u0000${target}\u0000${condition}`).digest('hex').slice(0, 16);
}

export function makeFinding(fields: Omit<Finding, 'fingerprint' | 'observedAt'>, observedAt: Date): Finding {
  return {
    ...fields,
    fingerprint: fingerprintOf(fields.check, fields.target, fields.condition),
    observedAt: observedAt.toISOString(),
  };
}

const RANK: Record<Severity, number> = { ok: 0, warning: 1, critical: 2 };

export function severityRank(severity: Severity): number {
  return RANK[severity];
}

export function worstSeverity(findings: readonly Pick<Finding, 'severity'>[]): Severity {
  let worst: Severity = 'ok';
  for (const f of findings) if (RANK[f.severity] > RANK[worst]) worst = f.severity;
  return worst;
}
