import { DelayedError, Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { expireApproval } from '../operator/actions.js';
import type { BullConnection } from '../schedule/queues.js';
import { parseDuration } from '../util/duration.js';
import { DEFAULT_EXPIRE_AFTER_MS } from './decide.js';
import type { ExecutionDeps } from './deps.js';
import { ExecutionRecords } from './execution-record.js';
import { escalate } from './incident-moves.js';
import { EXECUTIONS_QUEUE, type ExecutionJobData } from './queue.js';
import { runExecution } from './run-execution.js';
import { verifyExecution } from './verify-execution.js';

export interface ExecutionWorkerOptions {
  connection: BullConnection;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  concurrency?: number;
  /** How long a job's lock lasts without renewal, and how often stalled jobs are looked for. */
  lockDuration?: number;
  stalledInterval?: number;
  /** How long a run waits when its target is busy (default 5 s). */
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
      if (job.data.kind === 'verify') return verifyExecution(job.data, deps);
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
      // enqueue could not, since the job id stays taken for a day).
      if (outcome.status === 'busy' || outcome.status === 'paused') {
        const delay =
          outcome.status === 'busy' ? (options.busyDelayMs ?? 5000) : (options.pausedDelayMs ?? 30_000);
        await job.moveToDelayed(Date.now() + delay, token);
        throw new DelayedError();
      }
      options.log?.info({ job: job.id, status: outcome.status }, 'execution finished');
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
  const records = new ExecutionRecords(deps.redis, deps.prefix);
  const record = await records.get(job.data.incidentId, job.data.runbookId);
  if (record && record.state !== 'running') return;
  const why = `the worker running ${job.data.runbookId} for incident ${job.data.incidentId} died mid-run (${record?.steps.length ?? 0} steps recorded): not re-run, a human decides`;
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
    incidentId: job.data.incidentId,
    runbookId: job.data.runbookId,
    why,
  });
  const incident = await deps.store.get(job.data.incidentId);
  if (incident) await escalate(deps, incident, why, { runbookId: job.data.runbookId });
}

function expireAfterMsOf(deps: ExecutionDeps): number {
  return parseDuration(deps.config.approvals.expireAfter) ?? DEFAULT_EXPIRE_AFTER_MS;
}
