import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { RuleDiagnoser } from '../../src/diagnosis/rule-diagnoser.js';
import { diagnoseStep } from '../../src/diagnosis/step.js';
import { decide } from '../../src/execution/decide.js';
import { ExecutionRecords } from '../../src/execution/execution-record.js';
import { EXECUTIONS_QUEUE, enqueueRun, runJobId } from '../../src/execution/queue.js';
import { runExecution } from '../../src/execution/run-execution.js';
import { verifyExecution } from '../../src/execution/verify-execution.js';
import { startExecutionWorker } from '../../src/execution/worker.js';
import { PauseFlag } from '../../src/guardrails/pause.js';
import { TargetLocks } from '../../src/guardrails/target-lock.js';
import { type Incident, transition } from '../../src/incidents/incident.js';
import { limitKey } from '../../src/runbooks/render.js';
import { eventually } from '../helpers/eventually.js';
import { redisUrl } from '../helpers/redis.js';
import { executionHarness } from './harness.js';

/** The seed's pod case through decision, execution and verification: real Redis, BullMQ, client-node. */
describe('executions (fake API server, real Redis and BullMQ)', () => {
  const h = executionHarness();
  const records = () => new ExecutionRecords(h.state.redis, h.state.prefix);
  const worker = () => {
    const w = startExecutionWorker(h.state.deps, { connection: { url: redisUrl() } });
    h.later(() => w.stop());
    return w;
  };
  const run = (incident: Incident) =>
    runExecution({ incidentId: incident.id, runbookId: 'pod-restart', by: 'test' }, h.state.deps);

  it('auto: one eviction even when enqueued twice, then verification resolves the incident', async () => {
    h.crashingPod('web-6b7-a');
    const incident = (await h.sweep('web-6b7-a'))!;
    expect(incident.state).toBe('open');
    expect(await decide(incident, h.state.decideDeps)).toBe('run');
    // A second decision and a double click add the same job id.
    await enqueueRun(h.state.queue, incident.id, 'pod-restart', 'cli:alice');
    await enqueueRun(h.state.queue, incident.id, 'pod-restart', 'reef');
    expect(await h.state.queue.getJobCounts('waiting', 'active', 'completed')).toMatchObject({ waiting: 1 });
    worker();
    const done = await eventually('the incident to resolve', async () => {
      const now = await h.state.store.get(incident.id);
      return now?.state === 'resolved' ? now : undefined;
    });
    expect(done.history.map((e) => e.state)).toEqual(['open', 'executing', 'verifying', 'resolved']);
    expect(h.evictions('web-6b7-a')).toBe(1);
    // A redelivery after the job is gone still runs nothing: the execution record stands.
    expect((await run(incident)).status).toBe('duplicate');
    expect(h.evictions('web-6b7-a')).toBe(1);
    const record = (await records().get(incident.id, 'pod-restart'))!;
    expect(record.state).toBe('succeeded');
    expect(record.steps).toHaveLength(1);
    expect(record.steps[0]).toMatchObject({
      ok: true,
      type: 'kubernetes.deletePod',
      summary: expect.stringMatching(/^evicted pod apps\/web-6b7-a/),
      durationMs: expect.any(Number),
    });
    expect(await h.actions(incident.id)).toEqual(
      expect.arrayContaining(['decision', 'execution', 'step', 'verification']),
    );
    const job = await h.state.queue.getJob(runJobId(incident.id, 'pod-restart'));
    expect(job?.data).toMatchObject({ kind: 'run', by: 'reef' });
  });

  it('verification escalates with both results when the pod still crash-loops', async () => {
    h.crashingPod('web-6b7-v');
    const incident = (await h.sweep('web-6b7-v'))!;
    // The eviction goes through, but the controller brings the pod back crash-looping at once.
    const outcome = await run(incident);
    expect(outcome.status).toBe('succeeded');
    h.crashingPod('web-6b7-v');
    worker();
    const escalated = await eventually('escalation', async () => {
      const now = await h.state.store.get(incident.id);
      return now?.state === 'escalated' ? now : undefined;
    });
    const note = escalated.history.at(-1)!.note!;
    expect(note).toMatch(
      /verification failed after runbook pod-restart: before: evicted pod apps\/web-6b7-v/,
    );
    expect(note).toMatch(/now: still CrashLoopBackOff: container app is crash-looping/);
  });

  it('a failed verification diagnoses the incident again before the escalation is announced', async () => {
    h.crashingPod('web-6b7-r');
    const incident = (await h.sweep('web-6b7-r'))!;
    // The real rule diagnoser, through the real diagnosis step; the triggers it sees are recorded.
    const rules = new RuleDiagnoser(systemClock);
    const triggers: string[] = [];
    const diagnose = diagnoseStep({
      diagnoser: {
        name: 'rules',
        diagnose: (context) => {
          triggers.push(context.trigger);
          return rules.diagnose(context);
        },
      },
      store: h.state.store,
      clock: systemClock,
    });
    const deps = { ...h.state.deps, diagnose };
    expect(
      (await runExecution({ incidentId: incident.id, runbookId: 'pod-restart', by: 'test' }, deps)).status,
    ).toBe('succeeded');
    h.crashingPod('web-6b7-r');
    const w = startExecutionWorker(deps, { connection: { url: redisUrl() } });
    h.later(() => w.stop());
    // The escalation is announced once the new diagnosis is saved: wait for the event, not the state.
    const readEvents = async () =>
      (await h.state.redis.xrange(`${h.state.prefix}:events`, '-', '+')).map(
        ([, f]) => JSON.parse(f[1]!) as { type: string; incident: Incident },
      );
    const event = await eventually('the escalated event', async () =>
      (await readEvents()).find((e) => e.type === 'escalated' && e.incident.id === incident.id),
    );
    const escalated = (await h.state.store.get(incident.id))!;
    expect(escalated.state).toBe('escalated');
    expect(triggers, escalated.history.at(-1)?.note).toEqual(['escalated']);
    expect(escalated.diagnosis).toMatchObject({ diagnoser: 'rules', recommendedRunbookId: 'pod-restart' });
    expect(event.incident.diagnosis?.at).toBe(escalated.diagnosis?.at);
  });

  it('a run whose incident resolved while it ran (a watch saw the pod go) is verified, and its message still reaches humans', async () => {
    h.crashingPod('web-6b7-w');
    const incident = (await h.sweep('web-6b7-w'))!;
    const at = new Date();
    const resolved = transition(transition(incident, 'executing', at), 'resolved', at, {
      note: 'target gone',
    });
    await h.state.store.save(resolved, { releaseFingerprint: true });
    const message = 'pods of web keep crashing: consider a memory limit increase or a code fix';
    await new ExecutionRecords(h.state.redis, h.state.prefix).save({
      incidentId: incident.id,
      runbookId: 'pod-restart',
      state: 'succeeded',
      by: 'reef',
      startedAt: at.toISOString(),
      finishedAt: at.toISOString(),
      escalationMessage: message,
      steps: [],
    });
    expect(await verifyExecution({ incidentId: incident.id, runbookId: 'pod-restart' }, h.state.deps)).toBe(
      'resolved',
    );
    const events = (await h.state.redis.xrange(`${h.state.prefix}:events`, '-', '+')).map(
      ([, f]) => JSON.parse(f[1]!) as { type: string; note?: string },
    );
    const verified = events.find((e) => e.type === 'verified');
    expect(verified?.note).toMatch(
      /resolved after runbook pod-restart \(target gone\), before the check ran again/,
    );
    expect(verified?.note).toContain(message);
  });

  it('the third run in a day on the same owner says the escalation message', async () => {
    const messages: (string | undefined)[] = [];
    for (const pod of ['web-6b7-1', 'web-6b7-2', 'web-6b7-3']) {
      h.crashingPod(pod);
      const outcome = await run((await h.sweep(pod))!);
      if (!('record' in outcome)) throw new Error(`unexpected ${outcome.status}`);
      expect(outcome.status).toBe('succeeded');
      messages.push(outcome.record.escalationMessage);
    }
    expect(messages).toEqual([
      undefined,
      undefined,
      'pods of web keep crashing: consider a memory limit increase or a code fix',
    ]);
  });

  it('a StatefulSet pod without stateful: true is refused, audited and escalated; nothing is evicted', async () => {
    h.crashingPod('db-0', { kind: 'StatefulSet', name: 'db' });
    const incident = (await h.sweep('db-0'))!;
    const outcome = await run(incident);
    expect(outcome.status).toBe('refused');
    expect(h.evictions('db-0')).toBe(0);
    const after = (await h.state.store.get(incident.id))!;
    expect(after.state).toBe('escalated');
    expect(after.history.at(-1)!.note).toMatch(/does not say stateful: true.*owned by StatefulSet db/);
    const audit = await h.state.audit.read({ incidentId: incident.id });
    expect(audit.find((e) => e.action === 'step-refused')?.details).toEqual({ code: 'stateful_target' });
    expect(audit.map((e) => e.action)).toContain('escalation');
  });

  it('a fact with shell metacharacters is refused, audited and escalated', async () => {
    h.crashingPod('web-6b7-m');
    const found = (await h.sweep('web-6b7-m'))!;
    const incident = { ...found, facts: { ...found.facts, pod: 'web;rm -rf /' } };
    await h.state.store.save(incident);
    const outcome = await run(incident);
    expect(outcome.status).toBe('refused');
    expect(h.cluster.server.requests.filter((r) => r.resource === 'pods/eviction')).toHaveLength(0);
    const after = (await h.state.store.get(incident.id))!;
    expect(after.state).toBe('escalated');
    const refused = (await h.state.audit.read({ incidentId: incident.id })).find(
      (e) => e.action === 'step-refused',
    );
    expect(refused?.why).toMatch(/facts\.pod "web;rm -rf \/" holds ";"/);
  });

  it('while paused nothing runs; after a resume the same run goes ahead', async () => {
    h.crashingPod('web-6b7-p');
    const incident = (await h.sweep('web-6b7-p'))!;
    const pause = new PauseFlag(h.state.redis, h.state.prefix);
    await pause.pause('cli:alice', systemClock.now(), 'maintenance');
    expect((await run(incident)).status).toBe('paused');
    expect(h.evictions('web-6b7-p')).toBe(0);
    expect((await h.state.store.get(incident.id))!.state).toBe('open');
    await pause.resume('cli:alice', systemClock.now());
    expect((await run(incident)).status).toBe('succeeded');
    expect(h.evictions('web-6b7-p')).toBe(1);
  });

  it('REEF_DRY_RUN describes the steps and mutates nothing', async () => {
    h.crashingPod('web-6b7-d');
    const incident = (await h.sweep('web-6b7-d'))!;
    const outcome = await runExecution(
      { incidentId: incident.id, runbookId: 'pod-restart', by: 'test' },
      { ...h.state.deps, dryRun: true },
    );
    if (!('record' in outcome)) throw new Error(`unexpected ${outcome.status}`);
    expect(outcome.status).toBe('dry-run');
    expect(outcome.record.steps[0]!.summary).toBe(
      'dry run: would POST /api/v1/namespaces/apps/pods/web-6b7-d/eviction (policy/v1 Eviction) on cluster lab',
    );
    expect(h.cluster.server.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
    expect((await h.state.store.get(incident.id))!.state).toBe('open');
  });
});

describe('the worker waits on a busy target and on a pause, then runs once', () => {
  const h = executionHarness();
  const startWorker = (options: { busyDelayMs?: number; pausedDelayMs?: number }) => {
    const w = startExecutionWorker(h.state.deps, { connection: { url: redisUrl() }, ...options });
    h.later(() => w.stop());
    return w;
  };

  it('a run whose target another execution holds is delayed, not failed, and goes ahead once the lock is free', async () => {
    h.crashingPod('web-6b7-b');
    const incident = (await h.sweep('web-6b7-b'))!;
    const runbook = h.state.deps.catalog.get('pod-restart')!;
    const locks = new TargetLocks(h.state.redis, h.state.prefix);
    const held = await locks.acquire(limitKey(runbook, incident), 'execution of another incident', 30_000);
    if (!held.acquired) throw new Error('lock not taken');
    await enqueueRun(h.state.queue, incident.id, 'pod-restart', 'reef');
    startWorker({ busyDelayMs: 50 });
    const job = await eventually('the busy run to wait twice', async () => {
      const j = await h.state.queue.getJob(runJobId(incident.id, 'pod-restart'));
      return j?.data.kind === 'run' && (j.data.busyWaits ?? 0) >= 2 ? j : undefined;
    });
    expect(['delayed', 'waiting', 'active']).toContain(await job.getState());
    expect(h.evictions('web-6b7-b')).toBe(0);
    expect(
      await new ExecutionRecords(h.state.redis, h.state.prefix).get(incident.id, 'pod-restart'),
    ).toBeUndefined();
    await held.lease.release();
    await eventually(
      'the run to resolve the incident',
      async () => (await h.state.store.get(incident.id))?.state === 'resolved',
    );
    expect(h.evictions('web-6b7-b')).toBe(1);
  });

  it('a run queued while Reef is paused waits in the queue and runs after resume', async () => {
    h.crashingPod('web-6b7-q');
    const incident = (await h.sweep('web-6b7-q'))!;
    const pause = new PauseFlag(h.state.redis, h.state.prefix);
    await pause.pause('cli:alice', systemClock.now(), 'maintenance');
    await enqueueRun(h.state.queue, incident.id, 'pod-restart', 'reef');
    startWorker({ pausedDelayMs: 100 });
    await eventually(
      'the paused run to be recorded',
      async () =>
        (await new ExecutionRecords(h.state.redis, h.state.prefix).get(incident.id, 'pod-restart'))?.state ===
        'paused',
    );
    // Several looks while paused: still nothing runs, the job is never failed.
    await new Promise((r) => setTimeout(r, 400));
    expect(h.evictions('web-6b7-q')).toBe(0);
    expect(await h.state.queue.getJobState(runJobId(incident.id, 'pod-restart'))).not.toBe('failed');
    expect((await h.state.store.get(incident.id))!.state).toBe('open');
    await pause.resume('cli:alice', systemClock.now());
    await eventually(
      'the run after resume',
      async () => (await h.state.store.get(incident.id))?.state === 'resolved',
    );
    expect(h.evictions('web-6b7-q')).toBe(1);
  });
});

describe('a worker killed mid-run (real BullMQ stalled-job detection)', () => {
  const h = executionHarness();

  it('leaves the execution interrupted and escalates instead of re-running it', async () => {
    h.crashingPod('web-6b7-k');
    const incident = (await h.sweep('web-6b7-k'))!;
    await enqueueRun(h.state.queue, incident.id, 'pod-restart', 'reef');
    // The worker that "dies": it takes the job and records the run as started, then never renews its lock.
    const dying = new Worker(EXECUTIONS_QUEUE, null, {
      connection: { url: redisUrl() },
      prefix: h.state.prefix,
      lockDuration: 300,
    });
    const job = await dying.getNextJob('dead-token');
    expect(job?.id).toBe(runJobId(incident.id, 'pod-restart'));
    const records = new ExecutionRecords(h.state.redis, h.state.prefix);
    await records.save({
      incidentId: incident.id,
      runbookId: 'pod-restart',
      state: 'running',
      by: 'reef',
      startedAt: new Date().toISOString(),
      steps: [],
    });
    await dying.close(true);
    const survivor = startExecutionWorker(h.state.deps, {
      connection: { url: redisUrl() },
      stalledInterval: 200,
    });
    h.later(() => survivor.stop());
    const escalated = await eventually('the escalation', async () => {
      const now = await h.state.store.get(incident.id);
      return now?.state === 'escalated' ? now : undefined;
    });
    expect(escalated.history.at(-1)!.note).toMatch(/died mid-run .*not re-run, a human decides/);
    expect((await records.get(incident.id, 'pod-restart'))!.state).toBe('interrupted');
    expect(await h.state.queue.getJobState(job!.id!)).toBe('failed');
    expect(h.evictions('web-6b7-k')).toBe(0);
    expect(await h.actions(incident.id)).toContain('execution-interrupted');
  });

  it('a worker starting up finds a run left running whose job is gone, marks it interrupted and escalates it once', async () => {
    h.crashingPod('web-6b7-o');
    const incident = (await h.sweep('web-6b7-o'))!;
    const records = new ExecutionRecords(h.state.redis, h.state.prefix);
    // What a crash between "run started" and BullMQ noticing can leave: a running record, no active job.
    await records.save({
      incidentId: incident.id,
      runbookId: 'pod-restart',
      state: 'running',
      by: 'reef',
      startedAt: new Date().toISOString(),
      steps: [],
    });
    expect(await records.running()).toEqual([{ incidentId: incident.id, runbookId: 'pod-restart' }]);
    const first = startExecutionWorker(h.state.deps, { connection: { url: redisUrl() } });
    const second = startExecutionWorker(h.state.deps, { connection: { url: redisUrl() } });
    h.later(() => first.stop());
    h.later(() => second.stop());
    await eventually(
      'the orphan to be escalated',
      async () => (await h.state.store.get(incident.id))?.state === 'escalated',
    );
    await first.stop();
    await second.stop();
    expect((await records.get(incident.id, 'pod-restart'))!.state).toBe('interrupted');
    expect(await records.running()).toEqual([]);
    expect((await h.actions(incident.id)).filter((a) => a === 'execution-interrupted')).toHaveLength(1);
    expect(h.evictions('web-6b7-o')).toBe(0);
  });
});
