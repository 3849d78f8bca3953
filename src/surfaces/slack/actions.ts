import { z } from 'zod';

/**
 * What Reef's buttons and menus carry. Slack echoes a clicked element's `action_id` and `value` back
 * verbatim, but anything in a request can be forged or stale, so values are parsed strictly here and
 * checked against Redis (the message they came from, the incident's state) before anything happens.
 */

export const ACTION_IDS = {
  approve: 'reef:approve',
  alternative: 'reef:alternative',
  dismiss: 'reef:dismiss',
  silence1h: 'reef:silence:1h',
  silence24h: 'reef:silence:24h',
} as const;

export const SILENCE_MS: Readonly<Record<string, number>> = {
  [ACTION_IDS.silence1h]: 3_600_000,
  [ACTION_IDS.silence24h]: 86_400_000,
};

const incidentId = z.string().regex(/^\d{1,12}$/);
const runbookId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/);

/** Approve and Alternative: which incident, which runbook (or, for the menu, escalate instead). */
const runValue = z.strictObject({ i: incidentId, r: runbookId });
const escalateValue = z.strictObject({ i: incidentId, e: z.literal(1) });
const incidentValue = z.strictObject({ i: incidentId });

export type ReefAction =
  | { kind: 'approve'; incidentId: string; runbookId: string }
  | { kind: 'alternative'; incidentId: string; runbookId: string }
  | { kind: 'escalate'; incidentId: string }
  | { kind: 'dismiss'; incidentId: string }
  | { kind: 'silence'; incidentId: string; forMs: number };

export function approveValue(incident: string, runbook: string): string {
  return JSON.stringify({ i: incident, r: runbook });
}
export function alternativeValue(incident: string, runbook: string | 'escalate'): string {
  return JSON.stringify(runbook === 'escalate' ? { i: incident, e: 1 } : { i: incident, r: runbook });
}
export function incidentOnlyValue(incident: string): string {
  return JSON.stringify({ i: incident });
}

/** The Reef action a click means, or why it means nothing (an unknown id, a malformed value). */
export function parseAction(
  actionId: string,
  value: string | undefined,
): { ok: true; action: ReefAction } | { ok: false; problem: string } {
  if (!(Object.values(ACTION_IDS) as string[]).includes(actionId))
    return { ok: false, problem: `Reef has no button "${actionId}"` };
  const bad = {
    ok: false as const,
    problem: `the value of ${actionId} is not what Reef puts on its buttons`,
  };
  let json: unknown;
  try {
    json = JSON.parse(value ?? '');
  } catch {
    return bad;
  }
  switch (actionId) {
    case ACTION_IDS.approve: {
      const v = runValue.safeParse(json);
      return v.success
        ? { ok: true, action: { kind: 'approve', incidentId: v.data.i, runbookId: v.data.r } }
        : bad;
    }
    case ACTION_IDS.alternative: {
      const run = runValue.safeParse(json);
      if (run.success)
        return { ok: true, action: { kind: 'alternative', incidentId: run.data.i, runbookId: run.data.r } };
      const esc = escalateValue.safeParse(json);
      return esc.success ? { ok: true, action: { kind: 'escalate', incidentId: esc.data.i } } : bad;
    }
    case ACTION_IDS.dismiss: {
      const v = incidentValue.safeParse(json);
      return v.success ? { ok: true, action: { kind: 'dismiss', incidentId: v.data.i } } : bad;
    }
    case ACTION_IDS.silence1h:
    case ACTION_IDS.silence24h: {
      const v = incidentValue.safeParse(json);
      const forMs = SILENCE_MS[actionId] ?? 0;
      return v.success ? { ok: true, action: { kind: 'silence', incidentId: v.data.i, forMs } } : bad;
    }
    default:
      return { ok: false, problem: `Reef has no button "${actionId}"` };
  }
}
