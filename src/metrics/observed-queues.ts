import type { Queue } from 'bullmq';
import { executionsQueue } from '../execution/queue.js';
import {
  BRAINSTORM_SCHEDULER_ID,
  type BullConnection,
  brainstormQueue,
  checksQueue,
  SWEEP_SCHEDULER_ID,
} from '../schedule/queues.js';

/** BullMQ 6's job states, as `getJobCounts` counts them. */
export const JOB_STATES = [
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'waiting-children',
  'failed',
  'completed',
] as const;

/**
 * Reef's three queues, opened once by a process that reports on them (`/healthz`, `/metrics`): their
 * Job Schedulers, their connected workers and their job counts, all read from Redis, so any process
 * sees the whole deployment.
 */
export class ObservedQueues {
  readonly queues: Readonly<Record<'checks' | 'executions' | 'brainstorm', Queue>>;

  constructor(connection: BullConnection, prefix: string) {
    this.queues = {
      checks: checksQueue(connection, prefix),
      executions: executionsQueue(connection, prefix),
      brainstorm: brainstormQueue(connection, prefix),
    };
  }

  /** The Job Schedulers a scheduler upserts at boot that are missing from Redis, by name. */
  async missingSchedulers(): Promise<string[]> {
    const [sweep, brainstorm] = await Promise.all([
      this.queues.checks.getJobScheduler(SWEEP_SCHEDULER_ID),
      this.queues.brainstorm.getJobScheduler(BRAINSTORM_SCHEDULER_ID),
    ]);
    const missing: string[] = [];
    if (!sweep) missing.push('sweep');
    if (!brainstorm) missing.push('brainstorm');
    return missing;
  }

  /** Workers connected to each queue (BullMQ names its worker connections; CLIENT LIST finds them). */
  async workers(): Promise<Record<string, number>> {
    const entries = await Promise.all(
      Object.entries(this.queues).map(
        async ([name, queue]) => [name, await queue.getWorkersCount()] as const,
      ),
    );
    return Object.fromEntries(entries);
  }

  /** Jobs per queue and state. */
  async jobCounts(): Promise<Record<string, Record<string, number>>> {
    const entries = await Promise.all(
      Object.entries(this.queues).map(
        async ([name, queue]) => [name, await queue.getJobCounts(...JOB_STATES)] as const,
      ),
    );
    return Object.fromEntries(entries);
  }

  async close(): Promise<void> {
    await Promise.allSettled(Object.values(this.queues).map((q) => q.close()));
  }
}
