import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Clock } from '../adapters/clock.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { EventBus } from '../events/event-bus.js';
import { announce, escalate, moveIncident } from '../execution/incident-moves.js';
import { type ExecutionJobData, enqueueRun } from '../execution/queue.js';
import type { Incident } from '../incidents/incident.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Catalog } from '../runbooks/catalog.js';
import { formatRenderProblems, render } from '../runbooks/render.js';
import type { Runbook } from '../runbooks/runbook.js';
import { formatDuration } from '../util/duration.js';
import { awaitingSince, candidatesFor } from './candidates.js';

export { awaitingSince, candidatesFor } from './candidates.js';

/**
 * What a human can do about an incident, whichever surface they use (`reef approve`, a Slack button, a
 * slash command). Surfaces decide *who* may act (Slack approvers, the shell user); these functions
 * decide whether the act is still valid (state, expiry, two approvers for high risk, the runbook being
 * one Reef offered), audit every outcome, refused ones included, and announce what changed.
 */
export interface OperatorDeps {
  store: IncidentStore;
  bus: EventBus;
  audit: AuditLog;
  clock: Clock;
  catalog: Catalog;
  /** The executions queue. */
  queue: Queue<ExecutionJobData>;
  redis: Redis;
  prefix: string;
  /** How long a request for approval stays valid (`approvals.expireAfter`). */
  expireAfterMs: number;
}

export type ActionStatus = 'queued' | 'needs-another' | 'escalated' | 'dismissed' | 'silenced';
export type RefusalReason =
  | 'unknown-incident'
  | 'not-awaiting'
  | 'expired'
  | 'already-approved'
  | 'same-approver'
  | 'not-a-candidate'
  | 'unsafe'
  | 'invalid';

export type ActionResult =
  | {
      ok: true;
      status: ActionStatus;
      incident: Incident;
      /** One line for the human who acted. */
      message: string;
      runbookId?: string;
      approvers?: string[];
    }
  | { ok: false; reason: RefusalReason; incident?: Incident; message: string };

const APPROVALS_TTL_S = 7 * 86_400;
/** The field of an approvals hash saying the run was queued (the others are approvers). */
const QUEUED = '__queued';

function approvalsKey(prefix: string, incidentId: string, runbookId: string): string {
  return `${prefix}:approvals:${incidentId}:${runbookId}`;
}

async function findIncident(
  deps: OperatorDeps,
  ref: string,
): Promise<{ incident: Incident } | { refused: ActionResult }> {
  try {
    return { incident: await deps.store.find(ref) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      refused: { ok: false, reason: 'unknown-incident', message: `${message}; it may have been cleaned up.` },
    };
  }
}

function targetOf(incident: Incident): string {
  return `${incident.check}/${incident.target}`;
}

/** The approvers recorded so far for (incident, runbook), in the order they approved. */
export async function approversOf(
  redis: Redis,
  prefix: string,
  incidentId: string,
  runbookId: string,
): Promise<{ approvers: string[]; queued: boolean }> {
  const all = await redis.hgetall(approvalsKey(prefix, incidentId, runbookId));
  const approvers = Object.entries(all)
    .filter(([who]) => who !== QUEUED)
    .sort((a, b) => a[1].localeCompare(b[1]))
    .map(([who]) => who);
  return { approvers, queued: QUEUED in all };
}

/**
 * Approves running a runbook for an incident awaiting approval: the proposed one, or `runbookId` when
 * the human picked an alternative (it must be one Reef offers for this incident). A high-risk runbook
 * needs two distinct approvers: the first approval is recorded and announced, the second queues the run.
 * The run's job id is deterministic, so a double click never runs twice.
 */
export async function approve(
  deps: OperatorDeps,
  req: { ref: string; runbookId?: string; by: string },
): Promise<ActionResult> {
  const found = await findIncident(deps, req.ref);
  if ('refused' in found) return found.refused;
  const outcome = await deps.store.withLock(found.incident.fingerprint, () =>
    approveLocked(deps, found.incident, req),
  );
  if ('expired' in outcome) return expire(deps, outcome.expired, req.by);
  const { result, runbook } = outcome;
  const base = {
    actor: req.by,
    incidentId: result.incident?.id ?? found.incident.id,
    fingerprint: found.incident.fingerprint,
    target: targetOf(found.incident),
    ...(runbook ? { runbookId: runbook.id } : {}),
  };
  if (!result.ok) {
    await deps.audit.record({ ...base, action: 'approval-refused', why: result.message });
    return result;
  }
  await deps.audit.record({
    ...base,
    action: 'approval',
    why: result.message,
    details: { approvers: result.approvers, required: runbook?.approvalsRequired },
  });
  if (result.status === 'needs-another') {
    await announce(deps.bus, 'approved', result.incident, deps.clock.now(), {
      by: req.by,
      note: result.message,
    });
  }
  return result;
}

type LockedApproval = { expired: Incident } | { result: ActionResult; runbook?: Runbook };

async function approveLocked(
  deps: OperatorDeps,
  found: Incident,
  req: { runbookId?: string; by: string },
): Promise<LockedApproval> {
  const incident = (await deps.store.get(found.id)) ?? found;
  const refuse = (reason: RefusalReason, message: string, runbook?: Runbook): LockedApproval => ({
    result: { ok: false, reason, incident, message },
    ...(runbook ? { runbook } : {}),
  });
  const { best, alternatives } = candidatesFor(incident, deps.catalog);
  const runbook = req.runbookId ? deps.catalog.get(req.runbookId) : best;

  if (incident.state !== 'awaiting-approval') {
    const asked = runbook ?? best;
    const prior = asked ? await approversOf(deps.redis, deps.prefix, incident.id, asked.id) : undefined;
    if (prior?.queued) {
      return refuse(
        'already-approved',
        `Incident #${incident.id} was already approved by ${prior.approvers.join(' and ')}: runbook ${asked?.id} is ${incident.state}. Nothing more to do.`,
        asked,
      );
    }
    return refuse(
      'not-awaiting',
      `Incident #${incident.id} is ${incident.state}, not awaiting approval: there is nothing to approve.`,
      asked,
    );
  }
  const since = awaitingSince(incident);
  if (deps.clock.now().getTime() - since >= deps.expireAfterMs) return { expired: incident };

  const offered = [best, ...alternatives].filter((r): r is Runbook => r !== undefined);
  if (!runbook || !offered.includes(runbook)) {
    return refuse(
      'not-a-candidate',
      `Runbook ${req.runbookId ?? '(none)'} is not one Reef offers for incident #${incident.id}${offered.length ? ` (offered: ${offered.map((r) => r.id).join(', ')})` : ''}.`,
    );
  }
  const rendered = render(runbook, incident);
  if (rendered.status === 'refused') {
    return refuse(
      'unsafe',
      `Runbook ${runbook.id} cannot run for incident #${incident.id}: ${formatRenderProblems(runbook, rendered.problems).join('; ')}`,
      runbook,
    );
  }
  const key = approvalsKey(deps.prefix, incident.id, runbook.id);
  const prior = await approversOf(deps.redis, deps.prefix, incident.id, runbook.id);
  if (prior.queued) {
    return refuse(
      'already-approved',
      `Incident #${incident.id} was already approved by ${prior.approvers.join(' and ')}: runbook ${runbook.id} is queued.`,
      runbook,
    );
  }
  if (prior.approvers.includes(req.by)) {
    return refuse(
      'same-approver',
      `You already approved runbook ${runbook.id} for incident #${incident.id}; it is ${runbook.risk} risk and needs ${runbook.approvalsRequired} different approvers.`,
      runbook,
    );
  }
  const now = deps.clock.now();
  await deps.redis.multi().hset(key, req.by, now.toISOString()).expire(key, APPROVALS_TTL_S).exec();
  const approvers = [...prior.approvers, req.by];
  if (approvers.length < runbook.approvalsRequired) {
    return {
      runbook,
      result: {
        ok: true,
        status: 'needs-another',
        incident,
        runbookId: runbook.id,
        approvers,
        message: `Approved by ${approvers.join(', ')} (${approvers.length} of ${runbook.approvalsRequired}): runbook ${runbook.id} is ${runbook.risk} risk, so a second, different approver is needed.`,
      },
    };
  }
  await deps.redis.hset(key, QUEUED, now.toISOString());
  await enqueueRun(deps.queue, incident.id, runbook.id, approvers.join('+'));
  return {
    runbook,
    result: {
      ok: true,
      status: 'queued',
      incident,
      runbookId: runbook.id,
      approvers,
      message: `Approved by ${approvers.join(' and ')}: runbook ${runbook.id} is queued; a worker runs it once, with every guardrail.`,
    },
  };
}

/** An approval that came too late: audited, and the incident goes to a human. */
async function expire(deps: OperatorDeps, incident: Incident, by: string): Promise<ActionResult> {
  const waited = formatDuration(deps.clock.now().getTime() - awaitingSince(incident));
  const message = `The approval request for incident #${incident.id} expired (asked ${waited} ago; requests last ${formatDuration(deps.expireAfterMs)}): nothing runs, it is escalated to a human.`;
  await deps.audit.record({
    actor: by,
    action: 'approval-refused',
    incidentId: incident.id,
    fingerprint: incident.fingerprint,
    target: targetOf(incident),
    why: message,
  });
  await expireApproval(deps, incident.id, awaitingSince(incident));
  return { ok: false, reason: 'expired', incident, message };
}

/**
 * Ends a request for approval nobody answered in time: when the incident is still waiting on the same
 * request (`since`), it is audited as expired and escalated. A later request (the incident asked again)
 * is left alone. Called by the delayed `expire` job and by a click that came too late.
 */
export async function expireApproval(
  deps: Pick<OperatorDeps, 'store' | 'bus' | 'audit' | 'clock' | 'expireAfterMs' | 'redis' | 'prefix'>,
  incidentId: string,
  since: number,
): Promise<boolean> {
  const incident = await deps.store.get(incidentId);
  if (incident?.state !== 'awaiting-approval' || awaitingSince(incident) !== since) return false;
  // The delayed job and a late click may both get here: one of them expires the request.
  const claim = `${deps.prefix}:approvals:expired:${incidentId}:${since}`;
  if ((await deps.redis.set(claim, '1', 'EX', APPROVALS_TTL_S, 'NX')) !== 'OK') return false;
  const why = `nobody approved runbook ${incident.proposedRunbookId ?? '(proposed)'} within ${formatDuration(deps.expireAfterMs)}: the request expired, a human decides`;
  await deps.audit.record({
    actor: 'reef',
    action: 'approval-expired',
    incidentId: incident.id,
    fingerprint: incident.fingerprint,
    target: targetOf(incident),
    why,
    ...(incident.proposedRunbookId ? { runbookId: incident.proposedRunbookId } : {}),
  });
  await escalate(deps, incident, why);
  return true;
}

/** "Escalate to a human" (the Alternative menu, or a command): nothing runs; a human owns it now. */
export async function escalateToHuman(
  deps: OperatorDeps,
  req: { ref: string; by: string; note?: string },
): Promise<ActionResult> {
  const found = await findIncident(deps, req.ref);
  if ('refused' in found) return found.refused;
  const why = `${req.by} chose to handle it by hand${req.note ? `: ${req.note}` : ''}`;
  const moved = await moveIncident(deps.store, found.incident, 'escalated', deps.clock.now(), {
    by: req.by,
    note: why,
  });
  const base = {
    actor: req.by,
    incidentId: found.incident.id,
    fingerprint: found.incident.fingerprint,
    target: targetOf(found.incident),
  };
  if (!moved) {
    const message = `Incident #${found.incident.id} is ${(await deps.store.get(found.incident.id))?.state ?? found.incident.state}: it cannot be escalated now.`;
    await deps.audit.record({ ...base, action: 'approval-refused', why: message });
    return { ok: false, reason: 'not-awaiting', incident: found.incident, message };
  }
  await deps.audit.record({ ...base, action: 'escalation', why });
  await announce(deps.bus, 'escalated', moved, deps.clock.now(), { by: req.by, note: why });
  return {
    ok: true,
    status: 'escalated',
    incident: moved,
    message: `Incident #${moved.id} is yours: nothing will run; Reef resolves it when the check passes again.`,
  };
}

/** The operator takes it: Reef stays quiet until the target recovers. */
export async function dismiss(
  deps: OperatorDeps,
  req: { ref: string; by: string; reason?: string },
): Promise<ActionResult> {
  const found = await findIncident(deps, req.ref);
  if ('refused' in found) return found.refused;
  const base = {
    actor: req.by,
    incidentId: found.incident.id,
    fingerprint: found.incident.fingerprint,
    target: targetOf(found.incident),
  };
  const moved = await moveIncident(deps.store, found.incident, 'dismissed', deps.clock.now(), {
    by: req.by,
    ...(req.reason ? { note: req.reason } : {}),
  });
  if (!moved) {
    const state = (await deps.store.get(found.incident.id))?.state ?? found.incident.state;
    const message = `Incident #${found.incident.id} is ${state}: it cannot be dismissed${state === 'executing' || state === 'verifying' ? ' while a runbook runs; `reef pause` stops further runs' : ''}.`;
    await deps.audit.record({ ...base, action: 'approval-refused', why: message });
    return { ok: false, reason: 'not-awaiting', incident: found.incident, message };
  }
  await deps.audit.record({ ...base, action: 'dismissal', why: req.reason ?? 'dismissed' });
  await announce(deps.bus, 'dismissed', moved, deps.clock.now(), {
    by: req.by,
    ...(req.reason ? { note: req.reason } : {}),
  });
  return {
    ok: true,
    status: 'dismissed',
    incident: moved,
    message: `Dismissed #${moved.id} (${targetOf(moved)} ${moved.condition}). Reef stays quiet about it until the target recovers.`,
  };
}

/** The longest silence: beyond it a human should dismiss, or fix the check. */
export const MAX_SILENCE_MS = 30 * 86_400_000;

/**
 * Quiet for a while: no announcements until `forMs` has passed. If the problem is still there then,
 * the incident opens again and Reef decides afresh; if the target recovers first, it resolves.
 */
export async function silence(
  deps: OperatorDeps,
  req: { ref: string; by: string; forMs: number },
): Promise<ActionResult> {
  if (!Number.isFinite(req.forMs) || req.forMs <= 0 || req.forMs > MAX_SILENCE_MS) {
    return {
      ok: false,
      reason: 'invalid',
      message: `A silence lasts between 1 second and ${formatDuration(MAX_SILENCE_MS)} (e.g. 1h, 24h); to stop hearing about it for good, dismiss it.`,
    };
  }
  const found = await findIncident(deps, req.ref);
  if ('refused' in found) return found.refused;
  const now = deps.clock.now();
  const until = new Date(now.getTime() + req.forMs).toISOString();
  const note = `silenced for ${formatDuration(req.forMs)}`;
  const base = {
    actor: req.by,
    incidentId: found.incident.id,
    fingerprint: found.incident.fingerprint,
    target: targetOf(found.incident),
  };
  const moved = await deps.store.withLock(found.incident.fingerprint, async () => {
    const current = (await deps.store.get(found.incident.id)) ?? found.incident;
    if (current.state === 'silenced') {
      const extended = { ...current, silencedUntil: until, updatedAt: now.toISOString() };
      await deps.store.save(extended);
      return extended;
    }
    return undefined;
  });
  const silenced =
    moved ??
    (await moveIncident(deps.store, found.incident, 'silenced', now, {
      by: req.by,
      note,
      patch: { silencedUntil: until },
    }));
  if (!silenced) {
    const state = (await deps.store.get(found.incident.id))?.state ?? found.incident.state;
    const message = `Incident #${found.incident.id} is ${state}: it cannot be silenced now.`;
    await deps.audit.record({ ...base, action: 'approval-refused', why: message });
    return { ok: false, reason: 'not-awaiting', incident: found.incident, message };
  }
  await deps.audit.record({ ...base, action: 'silence', why: note, details: { until } });
  await announce(deps.bus, 'silenced', silenced, now, { by: req.by, note });
  return {
    ok: true,
    status: 'silenced',
    incident: silenced,
    message: `Silenced #${silenced.id} until ${until}. If it still fails then, Reef speaks up again.`,
  };
}
