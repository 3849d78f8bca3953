import { Queue, QueueEvents } from 'bullmq';
/** What BullMQ needs to open its own connections (a URL or a unix socket path). */
export type BullConnection = { url?: string; path?: string };

/** Sweeps (scheduled and on demand) are jobs on this queue, processed by any worker. */
export const CHECKS_QUEUE = 'checks';
export const SWEEP_SCHEDULER_ID = 'sweep';
export const SWEEP_JOB = 'sweep';

export interface SweepJobData {
  /** Who asked: `schedule`, `boot`, `cli`, a Slack user id… */
  trigger: string;
  /** Probe only this target name. */
  only?: string;
}

export function checksQueue(connection: BullConnection, prefix: string): Queue<SweepJobData> {
  return quiet(
    new Queue<SweepJobData>(CHECKS_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: {
        removeOnComplete: { age: 3600, count: 200 },
        removeOnFail: { age: 86_400, count: 500 },
      },
    }),
  );
}

export function checksQueueEvents(connection: BullConnection, prefix: string): QueueEvents {
  return new QueueEvents(CHECKS_QUEUE, { connection, prefix });
}

/** The Nightly Brainstorm: scheduled (`schedule.brainstorm` in `timezone`) jobs, processed by workers. */
export const BRAINSTORM_QUEUE = 'brainstorm';
export const BRAINSTORM_SCHEDULER_ID = 'brainstorm';
export const BRAINSTORM_JOB = 'brainstorm';

export interface BrainstormJobData {
  trigger: string;
}

export function brainstormQueue(connection: BullConnection, prefix: string): Queue<BrainstormJobData> {
  return quiet(
    new Queue<BrainstormJobData>(BRAINSTORM_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: {
        // A missed night is written by the next run or by `reef brainstorm --date`; never retried blindly.
        attempts: 1,
        removeOnComplete: { age: 7 * 86_400, count: 50 },
        removeOnFail: { age: 30 * 86_400, count: 100 },
      },
    }),
  );
}

/**
 * A queue whose connection errors are not printed as raw stack traces: ioredis reconnects on its own
 * (a Redis restart, a Sentinel failover), each call on the queue still rejects with its error for its
 * caller, and `/healthz` names an unreachable Redis.
 */
export function quiet<Q extends { on(event: 'error', listener: (error: Error) => void): unknown }>(
  queue: Q,
): Q {
  queue.on('error', () => {});
  return queue;
}
