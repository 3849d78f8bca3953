import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { runSweep } from '../../src/checks/sweep.js';
import { decide } from '../../src/execution/decide.js';
import { runJobId } from '../../src/execution/queue.js';
import { startExecutionWorker } from '../../src/execution/worker.js';
import type { Incident } from '../../src/incidents/incident.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { approve, dismiss, escalateToHuman, type OperatorDeps, silence } from '../../src/operator/actions.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../src/runbooks/location.js';
import { createCheckContext } from '../../src/runtime/check-context.js';
import { executionHarness } from '../execution/harness.js';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { redisUrl } from '../helpers/redis.js';

/**
 * Runbooks for these tests: the bundled pod-restart in mode approve, and a high-risk variant that
 * matches the same incidents (so it is also an alternative), plus disk-cleanup, which never matches a pod.
 */
function approvalRunbooks(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'reef-approvals-'));
  const podRestart = readFileSync(path.join(BUNDLED_RUNBOOKS_DIR, 'pod-restart.md'), 'utf8').replace(
    'verify: { after: 2m }',
    'verify: { after: 1s }',
  );
  writeFileSync(path.join(dir, 'pod-restart.md'), podRestart);
  writeFileSync(
    path.join(dir, 'pod-delete-hard.md'),
    podRestart
      .replace('id: pod-restart', 'id: pod-delete-hard')
      .replace(/title: .*/, 'title: Delete a crash-looping pod without eviction')
      .replace('risk: low', 'risk: high')
      // Less specific than pod-restart, so it is offered as an alternative, not proposed.
      .replace(
        'condition: [CrashLoopBackOff, OOMKilled]',
        'condition: [CrashLoopBackOff, OOMKilled, restarting]',
      ),
  );
  for (const file of ['disk-cleanup.md', 'log-rotation.md'])
    writeFileSync(path.join(dir, file), readFileSync(path.join(BUNDLED_RUNBOOKS_DIR, file), 'utf8'));
  return dir;
}

describe('operator actions: approvals, alternatives, expiry, escalation, dismissal, silence', () => {
  const h = executionHarness();
  const catalog = loadCatalog(approvalRunbooks());
  expect(catalog.errors).toEqual([]);

  function operatorDeps(clock = systemClock, expireAfterMs = 30 * 60_000): OperatorDeps {
    const { store, audit, queue, redis, prefix } = h.state;
    return {
      store,
      bus: h.state.deps.bus,
      audit,
      clock,
      catalog,
      queue,
      redis,
      prefix,
      expireAfterMs,
    };
  }

  /** A crash-looping pod, swept through the real tracker, and Reef's decision about it. */
  async function askedIncident(pod: string, clock = systemClock, expireAfterMs?: number): Promise<Incident> {
    h.crashingPod(pod);
    const opened = await h.sweep(pod);
    if (!opened) throw new Error('no incident opened');
    const decision = await decide(opened, {
      ...h.state.decideDeps,
      catalog,
      clock,
      ...(expireAfterMs ? { expireAfterMs } : {}),
    });
    expect(decision).toBe('ask');
    const asked = await h.state.store.get(opened.id);
    if (!asked) throw new Error('incident vanished');
    return asked;
  }

  it('approve mode asks, records the proposal, and one approval queues exactly one run however often it is clicked', async () => {
    const incident = await askedIncident('web-1');
    expect(incident.state).toBe('awaiting-approval');
    expect(incident.proposedRunbookId).toBe('pod-restart');
    const expiry = (await h.state.queue.getDelayed()).filter((j) => j.data.kind === 'expire');
    expect(expiry.map((j) => j.data.incidentId)).toEqual([incident.id]);

    const deps = operatorDeps();
    const first = await approve(deps, { ref: incident.id, by: 'U_ALICE' });
    expect(first).toMatchObject({
      ok: true,
      status: 'queued',
      runbookId: 'pod-restart',
      approvers: ['U_ALICE'],
    });
    const again = await Promise.all([
      approve(deps, { ref: incident.id, by: 'U_ALICE' }),
      approve(deps, { ref: incident.id, by: 'U_BOB' }),
    ]);
    for (const r of again) expect(r).toMatchObject({ ok: false, reason: 'already-approved' });
    const job = await h.state.queue.getJob(runJobId(incident.id, 'pod-restart'));
    expect(job?.data).toMatchObject({ kind: 'run', runbookId: 'pod-restart', by: 'U_ALICE' });
    expect(
      (await h.state.queue.getJobs(['waiting', 'delayed', 'active'])).filter((j) => j.name === 'run'),
    ).toHaveLength(1);
    const actions = await h.actions(incident.id);
    expect(actions.filter((a) => a === 'approval')).toHaveLength(1);
    expect(actions.filter((a) => a === 'approval-refused')).toHaveLength(2);
  });

  it('a high-risk runbook needs two different approvers: the first is recorded and announced, the same person twice is refused', async () => {
    const incident = await askedIncident('web-2');
    const deps = operatorDeps();
    const first = await approve(deps, { ref: incident.id, runbookId: 'pod-delete-hard', by: 'U_ALICE' });
    expect(first).toMatchObject({ ok: true, status: 'needs-another', approvers: ['U_ALICE'] });
    expect(first.message).toMatch(/1 of 2.*second, different approver/);
    expect(await h.state.queue.getJob(runJobId(incident.id, 'pod-delete-hard'))).toBeUndefined();

    const twice = await approve(deps, { ref: incident.id, runbookId: 'pod-delete-hard', by: 'U_ALICE' });
    expect(twice).toMatchObject({ ok: false, reason: 'same-approver' });
    expect(await h.state.queue.getJob(runJobId(incident.id, 'pod-delete-hard'))).toBeUndefined();

    const second = await approve(deps, { ref: incident.id, runbookId: 'pod-delete-hard', by: 'U_BOB' });
    expect(second).toMatchObject({ ok: true, status: 'queued', approvers: ['U_ALICE', 'U_BOB'] });
    const job = await h.state.queue.getJob(runJobId(incident.id, 'pod-delete-hard'));
    expect(job?.data).toMatchObject({ by: 'U_ALICE+U_BOB' });

    const events = await readEvents(h.state.redis, h.state.prefix);
    expect(events.filter((e) => e.type === 'approved' && e.incident.id === incident.id)).toHaveLength(1);
  });

  it('an alternative must be one Reef offers for the incident; anything else is refused and audited', async () => {
    const incident = await askedIncident('web-3');
    const deps = operatorDeps();
    for (const runbookId of ['disk-cleanup', 'no-such-runbook']) {
      const r = await approve(deps, { ref: incident.id, runbookId, by: 'U_ALICE' });
      expect(r).toMatchObject({ ok: false, reason: 'not-a-candidate' });
      expect(r.message).toMatch(/offered: pod-restart, pod-delete-hard/);
    }
    expect(await h.state.queue.getJobs(['waiting', 'delayed'])).not.toContainEqual(
      expect.objectContaining({ name: 'run' }),
    );
    expect((await h.actions(incident.id)).filter((a) => a === 'approval-refused')).toHaveLength(2);
    const unknown = await approve(deps, { ref: '99999', by: 'U_ALICE' });
    expect(unknown).toMatchObject({ ok: false, reason: 'unknown-incident' });
  });

  it('a click after approvals.expireAfter runs nothing and escalates the incident', async () => {
    const clock = new FakeClock(new Date().toISOString());
    const incident = await askedIncident('web-4', clock);
    clock.advance(31 * 60_000);
    const r = await approve(operatorDeps(clock), { ref: incident.id, by: 'U_ALICE' });
    expect(r).toMatchObject({ ok: false, reason: 'expired' });
    expect(r.message).toMatch(/expired \(asked 31m ago; requests last 30m\)/);
    expect((await h.state.store.get(incident.id))?.state).toBe('escalated');
    expect(await h.state.queue.getJob(runJobId(incident.id, 'pod-restart'))).toBeUndefined();
    const actions = await h.actions(incident.id);
    expect(actions).toEqual(expect.arrayContaining(['approval-refused', 'approval-expired', 'escalation']));
    expect(actions.filter((a) => a === 'approval-expired')).toHaveLength(1);
  });

  it('the delayed expire job escalates a request nobody answered, through the execution worker', async () => {
    h.state.deps.config.approvals.expireAfter = '1s';
    const incident = await askedIncident('web-5', systemClock, 1000);
    const worker = startExecutionWorker(h.state.deps, { connection: { url: redisUrl() } });
    h.later(() => worker.stop());
    await eventually(
      'the request to expire',
      async () => (await h.state.store.get(incident.id))?.state === 'escalated',
    );
    const expired = (await h.state.audit.read({ incidentId: incident.id })).find(
      (e) => e.action === 'approval-expired',
    );
    expect(expired?.why).toMatch(/nobody approved runbook pod-restart within 1s/);
    expect(h.evictions('web-5')).toBe(0);
  });

  it('an answered request is not expired later', async () => {
    h.state.deps.config.approvals.expireAfter = '1s';
    const incident = await askedIncident('web-6', systemClock, 1000);
    await dismiss(operatorDeps(), { ref: incident.id, by: 'U_ALICE', reason: 'known, fixing by hand' });
    const worker = startExecutionWorker(h.state.deps, { connection: { url: redisUrl() } });
    h.later(() => worker.stop());
    await eventually('the expire job to run', async () => (await h.state.queue.getCompletedCount()) === 1);
    expect((await h.state.store.get(incident.id))?.state).toBe('dismissed');
    expect(await h.actions(incident.id)).not.toContain('approval-expired');
  });

  it('the worker refuses a run of a runbook that does not apply to the incident, even when queued directly', async () => {
    const incident = await askedIncident('web-7');
    await h.state.queue.add(
      'run',
      { kind: 'run', incidentId: incident.id, runbookId: 'disk-cleanup', by: 'forged' },
      { jobId: runJobId(incident.id, 'disk-cleanup') },
    );
    const deps = { ...h.state.deps, catalog };
    const worker = startExecutionWorker(deps, { connection: { url: redisUrl() } });
    h.later(() => worker.stop());
    await eventually(
      'the forged run to be refused',
      async () => (await h.state.store.get(incident.id))?.state === 'escalated',
    );
    const refused = (await h.state.audit.read({ incidentId: incident.id })).find(
      (e) => e.action === 'step-refused',
    );
    expect(refused?.why).toMatch(/runbook disk-cleanup is not one Reef offers for pods CrashLoopBackOff/);
    expect(h.evictions('web-7')).toBe(0);

    const other = await askedIncident('web-10');
    await h.state.queue.add(
      'run',
      { kind: 'run', incidentId: other.id, runbookId: 'removed-runbook', by: 'U_ALICE' },
      { jobId: runJobId(other.id, 'removed-runbook') },
    );
    await eventually(
      'the run of an unloaded runbook to escalate',
      async () => (await h.state.store.get(other.id))?.state === 'escalated',
    );
    const missing = (await h.state.audit.read({ incidentId: other.id })).find(
      (e) => e.action === 'execution',
    );
    expect(missing?.why).toMatch(/runbook removed-runbook is not loaded in this worker/);
  });

  it('escalate-to-human and dismiss move the incident, are audited, and refuse once it is closed', async () => {
    const a = await askedIncident('web-8');
    const escalated = await escalateToHuman(operatorDeps(), { ref: a.id, by: 'U_ALICE', note: 'on it' });
    expect(escalated).toMatchObject({ ok: true, status: 'escalated' });
    expect((await h.state.store.get(a.id))?.state).toBe('escalated');
    expect(await approve(operatorDeps(), { ref: a.id, by: 'U_BOB' })).toMatchObject({
      ok: false,
      reason: 'not-awaiting',
    });
    const dismissed = await dismiss(operatorDeps(), { ref: a.id, by: 'U_BOB' });
    expect(dismissed).toMatchObject({ ok: true, status: 'dismissed' });
    const again = await dismiss(operatorDeps(), { ref: a.id, by: 'U_BOB' });
    expect(again).toMatchObject({ ok: false });
    expect(again.message).toMatch(/is dismissed: it cannot be dismissed/);
    const actions = await h.actions(a.id);
    expect(actions).toEqual(expect.arrayContaining(['escalation', 'dismissal', 'approval-refused']));
  });

  it('silence keeps the incident quiet, then re-opens it (and Reef decides again) if it still fails afterwards', async () => {
    const incident = await askedIncident('web-9');
    const clock = new FakeClock(new Date().toISOString());
    const bad = await silence(operatorDeps(clock), { ref: incident.id, by: 'U_ALICE', forMs: 0 });
    expect(bad).toMatchObject({ ok: false, reason: 'invalid' });
    const silenced = await silence(operatorDeps(clock), {
      ref: incident.id,
      by: 'U_ALICE',
      forMs: 3_600_000,
    });
    expect(silenced).toMatchObject({ ok: true, status: 'silenced' });
    expect((await h.state.store.get(incident.id))?.silencedUntil).toBe(
      new Date(clock.now().getTime() + 3_600_000).toISOString(),
    );

    const tracker = new IncidentTracker(h.state.store, clock);
    const sweep = async () => {
      const { context, close } = createCheckContext(h.state.config, { clock });
      try {
        const run = await runSweep(h.state.config, context, { only: 'lab' });
        return await tracker.ingest({ outcomes: run.outcomes, only: run.only }, h.state.config);
      } finally {
        await close();
      }
    };
    clock.advance(30 * 60_000);
    expect((await sweep()).filter((e) => e.incident.id === incident.id)).toEqual([]);
    expect((await h.state.store.get(incident.id))?.state).toBe('silenced');
    clock.advance(31 * 60_000);
    const events = (await sweep()).filter((e) => e.incident.id === incident.id);
    expect(events.map((e) => e.type)).toEqual(['opened']);
    const reopened = await h.state.store.get(incident.id);
    expect(reopened).toMatchObject({ state: 'open' });
    expect(reopened?.silencedUntil).toBeUndefined();
    expect(await h.actions(incident.id)).toContain('silence');
  });
});

async function readEvents(
  redis: import('ioredis').Redis,
  prefix: string,
): Promise<{ type: string; incident: Incident; by?: string }[]> {
  const entries = await redis.xrange(`${prefix}:events`, '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[1] ?? '{}'));
}
