import { DelayedError, Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { observeExecution } from '../metrics/process-metrics.js';
import { expireApproval } from '../operator/actions.js';
import type { BullConnection } from '../schedule/queues.js';
import { parseDuration } from '../util/duration.js';
import { DEFAULT_EXPIRE_AFTER_MS } from './decide.js';
import type { ExecutionDeps } from './deps.js';
import { ExecutionRecords } from './execution-record.js';
import { escalate } from './incident-moves.js';
import { EXECUTIONS_QUEUE, type ExecutionJobData, runJobId } from './queue.js';
import { runExecution } from './run-execution.js';
import { verifyExecution } from './verify-execution.js';

const MAX_BUSY_DELAY_MS = 15_000;

export interface ExecutionWorkerOptions {
  connection: BullConnection;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  concurrency?: number;
  /** How long a job's lock lasts without renewal, and how often stalled jobs are looked for. */
  lockDuration?: number;
  stalledInterval?: number;
  /** How long a run first waits when its target is busy (default 250 ms; doubles each time, up to 15 s). */
  busyDelayMs?: number;
  /** How often a run held by the global pause looks again (default 30 s). */
  pausedDelayMs?: number;
}

/**
 * Processes runs and verifications. `maxStalledCount: 0`: a job whose worker died is failed, never
 * handed to another worker, because a half-run mutation must not be re-run blindly; the 'stalled'
 * handler marks its execution interrupted and escalates.
 */
export function startExecutionWorker(deps: ExecutionDeps, options: ExecutionWorkerOptions) {
  const worker = new Worker<ExecutionJobData>(
    EXECUTIONS_QUEUE,
    async (job, token) => {
      if (job.data.kind === 'verify') {
        const verified = await verifyExecution(job.data, deps);
        if (verified !== 'waiting') return verified;
        // An alert's incident: look again after the runbook's verify delay.
        const runbook = deps.catalog.get(job.data.runbookId);
        await job.updateData({ ...job.data, looks: (job.data.looks ?? 0) + 1 });
        await job.moveToDelayed(Date.now() + (runbook?.verify?.afterMs ?? 60_000), token);
        throw new DelayedError();
      }
      if (job.data.kind === 'expire') {
        const expired = await expireApproval(
          { ...deps, expireAfterMs: expireAfterMsOf(deps) },
          job.data.incidentId,
          job.data.since,
        );
        return expired ? 'expired' : 'answered';
      }
      const outcome = await runExecution(job.data, deps);
      // Neither a busy target nor a pause is a verdict: the same job looks again later (a new
      // enqueue could not, since the job id stays taken for a day). A busy target is retried soon,
      // then less and less often, since the run holding it may take minutes.
      if (outcome.status === 'busy' || outcome.status === 'paused') {
        const waits = job.data.busyWaits ?? 0;
        const delay =
          outcome.status === 'busy'
            ? Math.min((options.busyDelayMs ?? 250) * 2 ** waits, MAX_BUSY_DELAY_MS)
            : (options.pausedDelayMs ?? 30_000);
        if (outcome.status === 'busy') await job.updateData({ ...job.data, busyWaits: waits + 1 });
        await job.moveToDelayed(Date.now() + delay, token);
        throw new DelayedError();
      }
      options.log?.info({ job: job.id, status: outcome.status }, 'execution finished');
      observeExecution(job.data.runbookId, outcome.status);
      return outcome.status;
    },
    {
      connection: options.connection,
      prefix: deps.prefix,
      concurrency: options.concurrency ?? 4,
      maxStalledCount: 0,
      ...(options.lockDuration ? { lockDuration: options.lockDuration } : {}),
      ...(options.stalledInterval ? { stalledInterval: options.stalledInterval } : {}),
    },
  );
  const interrupted: Promise<void>[] = [];
  worker.on('stalled', (jobId) => {
    interrupted.push(
      markInterrupted(worker, jobId, deps).catch((error) =>
        options.log?.error({ job: jobId, err: errorMessage(error) }, 'could not mark execution interrupted'),
      ),
    );
  });
  // Runs a crash left `running` that BullMQ no longer knows as active (their job failed or is gone).
  interrupted.push(
    recoverOrphans(worker, deps)
      .then((count) => {
        if (count > 0) options.log?.warn({ count }, 'runs left running by a crash were marked interrupted');
      })
      .catch((error) =>
        options.log?.error({ err: errorMessage(error) }, 'could not look for interrupted runs'),
      ),
  );
  worker.on('failed', (job, error) =>
    options.log?.warn({ job: job?.id, err: errorMessage(error) }, 'execution job failed'),
  );
  worker.on('error', (error) => options.log?.error({ err: errorMessage(error) }, 'execution worker error'));
  return {
    worker,
    async stop() {
      await worker.close();
      await Promise.allSettled(interrupted);
    },
  };
}

/** A run whose worker died: recorded as interrupted and handed to a human, never re-run. */
async function markInterrupted(
  worker: Worker<ExecutionJobData>,
  jobId: string,
  deps: ExecutionDeps,
): Promise<void> {
  const job = await Job.fromId<ExecutionJobData>(worker, jobId);
  if (job?.data.kind !== 'run') return;
  await interrupt(job.data.incidentId, job.data.runbookId, deps, 'died mid-run');
}

/**
 * At start-up: every run recorded `running` whose job is not active on some worker was cut short (a
 * crash between the record and BullMQ noticing, or a job removed since). Each is marked interrupted
 * and escalated, once. Returns how many.
 */
export async function recoverOrphans(worker: Worker<ExecutionJobData>, deps: ExecutionDeps): Promise<number> {
  const records = new ExecutionRecords(deps.redis, deps.prefix);
  let count = 0;
  for (const { incidentId, runbookId } of await records.running()) {
    const job = await Job.fromId<ExecutionJobData>(worker, runJobId(incidentId, runbookId));
    const state = job ? await job.getState() : 'missing';
    if (state === 'active' || state === 'waiting' || state === 'delayed' || state === 'prioritized') continue;
    if (await interrupt(incidentId, runbookId, deps, `was left running (its job is ${state})`)) count++;
  }
  return count;
}

async function interrupt(
  incidentId: string,
  runbookId: string,
  deps: ExecutionDeps,
  what: string,
): Promise<boolean> {
  const records = new ExecutionRecords(deps.redis, deps.prefix);
  const record = await records.get(incidentId, runbookId);
  if (!record) {
    await records.forgetRunning(incidentId, runbookId);
  } else if (record.state !== 'running') {
    return false;
  }
  // Two workers may notice the same run (the stalled handler and a start-up scan): one reports it.
  const claim = `${deps.prefix}:executions:interrupted:${incidentId}:${runbookId}`;
  if ((await deps.redis.set(claim, '1', 'EX', 86_400, 'NX')) !== 'OK') return false;
  const why = `the worker running ${runbookId} for incident ${incidentId} ${what} (${record?.steps.length ?? 0} steps recorded): not re-run, a human decides`;
  if (record)
    await records.save({
      ...record,
      state: 'interrupted',
      finishedAt: deps.clock.now().toISOString(),
      reason: why,
    });
  await deps.audit.record({
    actor: 'reef',
    action: 'execution-interrupted',
    incidentId,
    runbookId,
    why,
  });
  const incident = await deps.store.get(incidentId);
  if (incident) await escalate(deps, incident, why, { runbookId, rediagnose: true });
  return true;
}

function expireAfterMsOf(deps: ExecutionDeps): number {
  return parseDuration(deps.config.approvals.expireAfter) ?? DEFAULT_EXPIRE_AFTER_MS;
}
