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
  return new Queue<SweepJobData>(CHECKS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      removeOnComplete: { age: 3600, count: 200 },
      removeOnFail: { age: 86_400, count: 500 },
    },
  });
}

export function checksQueueEvents(connection: BullConnection, prefix: string): QueueEvents {
  return new QueueEvents(CHECKS_QUEUE, { connection, prefix });
}
