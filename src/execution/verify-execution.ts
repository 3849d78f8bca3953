import { RedisCheckMemory } from '../adapters/check-memory.js';
import { runSweep } from '../checks/sweep.js';
import { PUSHED_CHECK_KINDS } from '../findings/finding.js';
import { createCheckContext } from '../runtime/check-context.js';
import type { ExecutionDeps } from './deps.js';
import { ExecutionRecords } from './execution-record.js';
import { announce, escalate } from './incident-moves.js';

export type VerifyOutcome = 'resolved' | 'escalated' | 'skipped' | 'waiting';

/**
 * Incidents of pushed checks (alerts) cannot be probed again: their source says when they resolve. A
 * verification then looks again this many times, `verify.after` apart, before escalating.
 */
export const PUSHED_VERIFY_LOOKS = 6;

/**
 * After a run's `verify.after`: the originating check runs again for the incident's probe, and its
 * outcome goes through the tracker like any sweep's, so the incident resolves (and releases its
 * fingerprint) exactly as it would have on its own. Still unhealthy, or the check failed → escalated
 * with what the run did and what the check now says.
 */
export async function verifyExecution(
  data: { incidentId: string; runbookId: string; looks?: number },
  deps: ExecutionDeps,
): Promise<VerifyOutcome> {
  const incident = await deps.store.get(data.incidentId);
  const base = {
    actor: 'reef',
    incidentId: data.incidentId,
    runbookId: data.runbookId,
    ...(incident
      ? { fingerprint: incident.fingerprint, target: `${incident.check}/${incident.target}` }
      : {}),
  };
  if (
    incident?.state === 'resolved' &&
    incident.history.some((h) => h.state === 'verifying' || h.state === 'executing')
  ) {
    // Settled while the run's steps ran or before the check ran again (a sweep, a watch event, or the
    // alert's own "resolved"): the fix held.
    const why = `resolved after runbook ${data.runbookId} (${incident.history.at(-1)?.note ?? 'seen healthy'}), before the check ran again`;
    await deps.audit.record({ ...base, action: 'verification', why, details: { result: 'passed' } });
    // The run's message for humans ("… keep crashing: consider …") normally rides on the `verifying`
    // announcement, which an incident resolved mid-run never had: say it here instead.
    const record = await new ExecutionRecords(deps.redis, deps.prefix).get(incident.id, data.runbookId);
    const said = incident.history.some((h) => h.state === 'verifying');
    const note = [why, said ? undefined : record?.escalationMessage].filter(Boolean).join(' — ');
    await announce(deps.bus, 'verified', incident, deps.clock.now(), { note });
    return 'resolved';
  }
  if (incident?.state !== 'verifying') {
    // A human took it, or it is gone: nothing to verify.
    const why = `nothing to verify: incident is ${incident?.state ?? 'gone'}`;
    await deps.audit.record({ ...base, action: 'verification', why });
    return 'skipped';
  }
  if (PUSHED_CHECK_KINDS.has(incident.check)) {
    const looks = (data.looks ?? 0) + 1;
    if (looks < PUSHED_VERIFY_LOOKS) return 'waiting';
    const why = `verification failed after runbook ${data.runbookId}: the ${incident.check} ${incident.condition} is still firing after ${looks} looks (its source has not reported it resolved)`;
    await deps.audit.record({ ...base, action: 'verification', why, details: { result: 'failed', looks } });
    await escalate(deps, incident, why, { runbookId: data.runbookId, rediagnose: true });
    return 'escalated';
  }
  const { context, close } = createCheckContext(deps.config, {
    clock: deps.clock,
    memory: new RedisCheckMemory(deps.redis, deps.prefix),
  });
  let run: Awaited<ReturnType<typeof runSweep>>;
  try {
    run = await runSweep(deps.config, context, { only: incident.probe ?? incident.target });
  } finally {
    await close();
  }
  const events = await deps.tracker.ingest({ outcomes: run.outcomes, only: run.only }, deps.config);
  await deps.bus.publish(events);
  const after = (await deps.store.get(incident.id)) ?? incident;
  if (after.state === 'resolved') {
    const why = `the ${incident.check} check passed for ${incident.probe ?? incident.target} after runbook ${data.runbookId}: resolved`;
    await deps.audit.record({ ...base, action: 'verification', why, details: { result: 'passed' } });
    await announce(deps.bus, 'verified', after, deps.clock.now(), { note: why });
    return 'resolved';
  }
  const still = run.findings.find((f) => f.fingerprint === incident.fingerprint && f.severity !== 'ok');
  const now = still
    ? `still ${still.condition}: ${still.summary}`
    : run.errors.length > 0
      ? `the check failed: ${run.errors.map((e) => e.message).join('; ')}`
      : `the incident is ${after.state}`;
  const record = await new ExecutionRecords(deps.redis, deps.prefix).get(incident.id, data.runbookId);
  const before = record?.steps.map((s) => s.summary).join('; ') || 'no steps recorded';
  const why = `verification failed after runbook ${data.runbookId}: before: ${before}; now: ${now}`;
  await deps.audit.record({
    ...base,
    action: 'verification',
    why,
    details: { result: 'failed', before, now },
  });
  await escalate(deps, after, why, { runbookId: data.runbookId, rediagnose: true });
  return 'escalated';
}
