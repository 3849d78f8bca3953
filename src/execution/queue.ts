import { Queue } from 'bullmq';
import { type BullConnection, quiet } from '../schedule/queues.js';

/** Runbook runs and their verifications are jobs on this queue, processed by any worker. */
export const EXECUTIONS_QUEUE = 'executions';
export const RUN_JOB = 'run';
export const VERIFY_JOB = 'verify';
export const EXPIRE_JOB = 'expire';

export type ExecutionJobData =
  | {
      kind: 'run';
      incidentId: string;
      runbookId: string;
      /** Who asked: `reef` (mode auto), `cli:<user>` (an approval), a Slack user id. */
      by: string;
      /** How often the run found its target busy and waited (sets the next wait). */
      busyWaits?: number;
    }
  | {
      kind: 'verify';
      incidentId: string;
      runbookId: string;
      /** For pushed checks (alerts): how many times it looked for the source's "resolved" so far. */
      looks?: number;
    }
  /** Ends a request for approval nobody answered (`since`: when it was asked, ms since the epoch). */
  | { kind: 'expire'; incidentId: string; runbookId: string; since: number };

/**
 * One job id per (incident, runbook): a double click or a decision taken twice adds the same id, and
 * BullMQ keeps only one job per id. BullMQ refuses ':' in custom ids, hence the dashes.
 */
export function runJobId(incidentId: string, runbookId: string): string {
  return `exec-${incidentId}-${runbookId}`;
}

export function verifyJobId(incidentId: string, runbookId: string): string {
  return `verify-${incidentId}-${runbookId}`;
}

export function executionsQueue(connection: BullConnection, prefix: string): Queue<ExecutionJobData> {
  return quiet(
    new Queue<ExecutionJobData>(EXECUTIONS_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: {
        // Never retried by BullMQ: a mutating step that failed is a human's call (see run-execution.ts).
        attempts: 1,
        // Kept a day, so a duplicate enqueue within that time still finds the job id taken; the
        // execution record (execution-record.ts) is the lasting guard against a second run.
        removeOnComplete: { age: 86_400, count: 1000 },
        removeOnFail: { age: 7 * 86_400, count: 1000 },
      },
    }),
  );
}

/** Queues the run of `runbookId` for an incident; a second call for the same pair is a no-op. */
export async function enqueueRun(
  queue: Queue<ExecutionJobData>,
  incidentId: string,
  runbookId: string,
  by: string,
): Promise<string> {
  const jobId = runJobId(incidentId, runbookId);
  await queue.add(RUN_JOB, { kind: 'run', incidentId, runbookId, by }, { jobId });
  return jobId;
}

/**
 * Queues the end of a request for approval, `afterMs` from now. One job per request (the incident may
 * ask again later, with a new `since`).
 */
export async function enqueueExpiry(
  queue: Queue<ExecutionJobData>,
  incidentId: string,
  runbookId: string,
  since: number,
  afterMs: number,
): Promise<void> {
  await queue.add(
    EXPIRE_JOB,
    { kind: 'expire', incidentId, runbookId, since },
    { jobId: `expire-${incidentId}-${since}`, delay: afterMs },
  );
}
