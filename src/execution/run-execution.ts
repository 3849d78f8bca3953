import { UnrecoverableError } from 'bullmq';
import { digestOutput } from '../audit/audit-entry.js';
import { errorMessage } from '../errors.js';
import { formatBytes } from '../executors/bytes.js';
import type { StepResult } from '../executors/executor.js';
import { EXECUTORS } from '../executors/registry.js';
import { PauseFlag } from '../guardrails/pause.js';
import { checkPolicy } from '../guardrails/policy.js';
import { escalationDue, RateLimiter } from '../guardrails/rate-limit.js';
import { TargetLocks } from '../guardrails/target-lock.js';
import { canTransition, type Incident } from '../incidents/incident.js';
import { isCandidate } from '../operator/candidates.js';
import { formatRenderProblems, limitKey, type RenderedStep, render } from '../runbooks/render.js';
import { boundsOf, type Runbook } from '../runbooks/runbook.js';
import { defaultPorts, type ExecutionDeps } from './deps.js';
import {
  boundData,
  boundOutput,
  type ExecutionRecord,
  ExecutionRecords,
  type StepRecord,
} from './execution-record.js';
import { announce, escalate, moveIncident } from './incident-moves.js';
import { VERIFY_JOB, verifyJobId } from './queue.js';

export type RunOutcome =
  | { status: 'missing' | 'stale' | 'duplicate'; reason: string }
  /** Another execution holds the target: the caller delays the job and tries again. */
  | { status: 'busy'; reason: string }
  | { status: ExecutionRecord['state']; record: ExecutionRecord };

/**
 * Runs one runbook for one incident, in the guardrails' order: target lock → pause → render → policy →
 * rate limit → steps. Safe to run twice: the execution record, read under the target lock, turns a
 * second delivery of the same (incident, runbook) into `duplicate`.
 */
export async function runExecution(
  data: { incidentId: string; runbookId: string; by: string },
  deps: ExecutionDeps,
): Promise<RunOutcome> {
  const incident = await deps.store.get(data.incidentId);
  const runbook = deps.catalog.get(data.runbookId);
  if (!incident || !runbook) {
    const reason = !incident ? `no incident ${data.incidentId}` : `no runbook ${data.runbookId} loaded`;
    if (incident) {
      // Approved, then removed (or never loaded in this worker): nothing runs, and a human hears why.
      const why = `runbook ${data.runbookId} is not loaded in this worker (removed, or it has errors: see \`reef runbooks lint\`): nothing ran`;
      await deps.audit.record({
        actor: 'reef',
        action: 'execution',
        incidentId: incident.id,
        fingerprint: incident.fingerprint,
        runbookId: data.runbookId,
        target: `${incident.check}/${incident.target}`,
        why,
      });
      await escalate(deps, incident, why, { runbookId: data.runbookId });
    }
    return { status: 'missing', reason };
  }
  if (!isCandidate(incident, deps.catalog, runbook.id)) {
    // A forged or stale job: the runbook does not apply, so it never runs (and takes no target lock).
    const why = `refused: runbook ${runbook.id} is not one Reef offers for ${incident.check} ${incident.condition} (incident ${incident.id})`;
    await deps.audit.record({
      actor: 'reef',
      action: 'step-refused',
      incidentId: incident.id,
      fingerprint: incident.fingerprint,
      runbookId: runbook.id,
      target: `${incident.check}/${incident.target}`,
      why,
    });
    await escalate(deps, incident, why, { runbookId: runbook.id });
    return { status: 'stale', reason: why };
  }
  const key = limitKey(runbook, incident);
  const locks = new TargetLocks(deps.redis, deps.prefix, deps.clock);
  const owner = `execution ${data.incidentId}/${data.runbookId}`;
  const held = await locks.withTargetLock(
    key,
    owner,
    (signal) => runLocked(incident, runbook, key, data.by, signal, deps),
    { ttlMs: deps.lockTtlMs ?? 60_000 },
  );
  if (held.status === 'busy') return { status: 'busy', reason: held.reason };
  return held.value;
}

async function runLocked(
  found: Incident,
  runbook: Runbook,
  key: string,
  by: string,
  signal: AbortSignal,
  deps: ExecutionDeps,
): Promise<RunOutcome> {
  const records = new ExecutionRecords(deps.redis, deps.prefix);
  const existing = await records.get(found.id, runbook.id);
  // A paused run never started, so it may run once Reef is resumed; anything else already happened.
  if (existing && existing.state !== 'paused') {
    return { status: 'duplicate', reason: `already ${existing.state} since ${existing.startedAt}` };
  }
  const incident = (await deps.store.get(found.id)) ?? found;
  const base = {
    actor: 'reef',
    incidentId: incident.id,
    fingerprint: incident.fingerprint,
    runbookId: runbook.id,
    target: `${incident.check}/${incident.target}`,
  };
  if (!canTransition(incident.state, 'executing')) {
    const reason = `incident is ${incident.state}: runbook ${runbook.id} did not run`;
    await deps.audit.record({ ...base, action: 'execution', why: reason });
    return { status: 'stale', reason };
  }
  const record: ExecutionRecord = {
    incidentId: incident.id,
    runbookId: runbook.id,
    state: 'running',
    by,
    startedAt: deps.clock.now().toISOString(),
    steps: [],
  };
  const finish = async (state: ExecutionRecord['state'], reason?: string): Promise<RunOutcome> => {
    record.state = state;
    record.finishedAt = deps.clock.now().toISOString();
    if (reason) record.reason = reason;
    await records.save(record);
    return { status: state, record };
  };

  const pause = await new PauseFlag(deps.redis, deps.prefix).isPaused();
  if (pause.paused) {
    const why = `Reef is paused (by ${pause.by}${pause.reason ? `: ${pause.reason}` : ''}): runbook ${runbook.id} did not run`;
    await deps.audit.record({ ...base, action: 'execution', why });
    return finish('paused', why);
  }

  const executors = deps.executors ?? EXECUTORS;
  const rendered = render(runbook, incident, executors);
  if (rendered.status === 'refused') {
    const problems = formatRenderProblems(runbook, rendered.problems);
    const why = `refused: the incident's facts cannot safely fill the steps of ${runbook.id}: ${problems.join('; ')}`;
    await deps.audit.record({ ...base, action: 'step-refused', why, details: { problems } });
    await escalate(deps, incident, why, { runbookId: runbook.id });
    return finish('refused', why);
  }
  const policy = checkPolicy({
    runbook,
    facts: incident.facts,
    dryRun: deps.dryRun,
    rendered: rendered.steps,
    executors,
  });
  if (!policy.allowed && policy.code === 'dry_run') {
    // Described only: nothing mutates, no run is counted, the incident stays as it is.
    record.steps = rendered.steps.map((s, index) => describedOnly(s, index, record.startedAt));
    const why = `dry run: runbook ${runbook.id} would run ${rendered.steps.map((s) => s.description).join('; then ')}`;
    await deps.audit.record({ ...base, action: 'execution', why, details: { dryRun: true } });
    return finish('dry-run', why);
  }
  if (!policy.allowed) {
    await deps.audit.record({
      ...base,
      action: 'step-refused',
      why: policy.reason,
      details: { code: policy.code },
    });
    await escalate(deps, incident, `refused: ${policy.reason}`, { runbookId: runbook.id });
    return finish('refused', policy.reason);
  }

  const executing = await moveIncident(deps.store, incident, 'executing', deps.clock.now(), {
    by,
    note: `runbook ${runbook.id}`,
  });
  if (!executing) {
    const now = (await deps.store.get(incident.id))?.state ?? 'gone';
    const reason = `incident became ${now}: runbook ${runbook.id} did not run`;
    await deps.audit.record({ ...base, action: 'execution', why: reason });
    return { status: 'stale', reason };
  }
  const acquired = await new RateLimiter(deps.redis, deps.prefix).tryAcquire(runbook, key, deps.clock.now());
  if (!acquired.allowed) {
    await escalate(deps, executing, `runbook ${runbook.id} on ${key}: ${acquired.reason}`, {
      runbookId: runbook.id,
    });
    return finish('refused', acquired.reason);
  }
  // Said once the steps succeeded, never before: a message like "certificate X renewed; …" must not
  // reach a human when the renewal failed (the failure's escalation says what happened instead).
  const due = escalationDue(runbook, acquired.runsInDay) ? rendered.escalationMessage : undefined;
  await records.save(record);
  await deps.audit.record({
    ...base,
    action: 'execution',
    why: `running ${runbook.id} (run ${acquired.runsInDay} today on ${key}), asked by ${by}`,
    details: { steps: rendered.steps.map((s) => s.description) },
  });
  await announce(deps.bus, 'executing', executing, deps.clock.now(), { by, note: `runbook ${runbook.id}` });

  const failed = await runSteps(rendered.steps, runbook, record, signal, deps, base);
  if (failed) {
    const reason = `step ${failed.index + 1} (${failed.type}) failed: ${failed.summary}`;
    await finish('failed', reason);
    await escalate(deps, executing, `runbook ${runbook.id}: ${reason}; not retried`, {
      runbookId: runbook.id,
      rediagnose: true,
    });
    // BullMQ must never retry a mutation that failed half-way unless the runbook says it is idempotent.
    if (failed.mutates && !runbook.idempotent) throw new UnrecoverableError(reason);
    throw new Error(reason);
  }
  // A step that found nothing to do (`changed: false`, e.g. certbot: "not due") makes the message untrue
  // ("renewed; the renewal cron did not run"): it is then not said.
  const message = record.steps.some((s) => s.data?.changed === false) ? undefined : due;
  if (message) record.escalationMessage = message;
  const outcome = await finish('succeeded');
  const freed = totalBytesFreed(record.steps);
  const ran = `runbook ${runbook.id} ran all ${record.steps.length} steps${freed === undefined ? '' : `: freed ${formatBytes(freed)} in all`}`;
  await deps.audit.record({
    ...base,
    action: 'execution',
    why: ran,
    ...(freed === undefined ? {} : { details: { bytesFreed: freed } }),
  });
  if (message) {
    await deps.audit.record({
      ...base,
      action: 'escalation',
      why: message,
      details: { runsInDay: acquired.runsInDay, limitKey: key },
    });
  }
  const verifying = await moveIncident(deps.store, executing, 'verifying', deps.clock.now(), {
    by: 'reef',
    note: `runbook ${runbook.id} ran`,
  });
  const delay = runbook.verify?.afterMs ?? 0;
  const queueVerification = () =>
    deps.queue.add(
      VERIFY_JOB,
      { kind: 'verify', incidentId: incident.id, runbookId: runbook.id },
      { jobId: verifyJobId(incident.id, runbook.id), delay },
    );
  if (verifying) {
    await queueVerification();
    await announce(deps.bus, 'verifying', verifying, deps.clock.now(), {
      note: [`${ran}; the ${incident.check} check runs again in ${Math.round(delay / 1000)}s`, message]
        .filter(Boolean)
        .join(' — '),
    });
  } else if ((await deps.store.get(incident.id))?.state === 'resolved') {
    // Resolved while the steps ran (a pod watch sees an evicted pod go within milliseconds): the run is
    // still verified, after the same delay, and its verification records that the fix held.
    await queueVerification();
  }
  return outcome;
}

/** Runs the steps in order, recording each; returns the first failed step (the rest do not run). */
async function runSteps(
  steps: readonly RenderedStep[],
  runbook: Runbook,
  record: ExecutionRecord,
  signal: AbortSignal,
  deps: ExecutionDeps,
  base: { actor: string; incidentId: string; fingerprint: string; runbookId: string; target: string },
): Promise<StepRecord | undefined> {
  const executors = deps.executors ?? EXECUTORS;
  const ports = deps.ports?.() ?? defaultPorts(deps.config);
  const lines: string[] = [];
  try {
    for (const [index, step] of steps.entries()) {
      const startedAt = deps.clock.now().toISOString();
      const t0 = performance.now();
      let result: StepResult;
      if (signal.aborted) {
        result = { ok: false, summary: `not started: ${errorMessage(signal.reason)}` };
      } else {
        try {
          result = await executors[step.type]!.execute(step.params, {
            hosts: ports.hosts,
            kube: ports.kube,
            hostConfig: (name) => deps.config.hosts[name],
            clock: deps.clock,
            runbook: boundsOf(runbook),
            signal,
            log: (line) => void lines.push(line.slice(0, 500)),
          });
        } catch (error) {
          result = { ok: false, summary: `threw: ${errorMessage(error)}` };
        }
      }
      const output = boundOutput([result.output ?? '', ...lines.splice(0)].filter(Boolean).join('\n'));
      const stepRecord: StepRecord = {
        index,
        type: step.type,
        description: step.description,
        mutates: step.mutates,
        startedAt,
        durationMs: Math.round(performance.now() - t0),
        ok: result.ok,
        summary: result.summary,
        ...(output ? { output } : {}),
        ...(result.data ? { data: boundData(result.data) } : {}),
      };
      record.steps.push(stepRecord);
      await new ExecutionRecords(deps.redis, deps.prefix).save(record);
      await deps.audit.record({
        ...base,
        action: 'step',
        why: `${result.ok ? 'ok' : 'failed'}: ${result.summary}`,
        details: {
          index,
          type: step.type,
          description: step.description,
          durationMs: stepRecord.durationMs,
          ...(stepRecord.data ? { data: stepRecord.data } : {}),
        },
        outputDigest: digestOutput(output || result.summary),
      });
      const current = (await deps.store.get(record.incidentId)) ?? undefined;
      if (current) await announce(deps.bus, 'step', current, deps.clock.now(), { note: result.summary });
      if (!result.ok) return stepRecord;
    }
    return undefined;
  } finally {
    await ports.close();
  }
}

/** The bytes the steps report freeing (`data.bytesFreed`, as files.* steps give it); undefined if none does. */
function totalBytesFreed(steps: readonly StepRecord[]): number | undefined {
  const freed = steps
    .map((s) => s.data?.bytesFreed)
    .filter((b): b is number => typeof b === 'number' && Number.isFinite(b));
  return freed.length > 0 ? freed.reduce((a, b) => a + b, 0) : undefined;
}

function describedOnly(step: RenderedStep, index: number, at: string): StepRecord {
  return {
    index,
    type: step.type,
    description: step.description,
    mutates: step.mutates,
    startedAt: at,
    durationMs: 0,
    ok: true,
    summary: `dry run: would ${step.description}`,
  };
}
