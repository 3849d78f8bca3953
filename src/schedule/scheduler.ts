import type { Queue } from 'bullmq';
import type { ReefConfig } from '../config/schema.js';
import {
  BRAINSTORM_JOB,
  BRAINSTORM_SCHEDULER_ID,
  type BrainstormJobData,
  SWEEP_JOB,
  SWEEP_SCHEDULER_ID,
  type SweepJobData,
} from './queues.js';

export interface ScheduleInfo {
  id: string;
  pattern: string | undefined;
  tz: string | undefined;
  /** Epoch milliseconds of the next run. */
  next: number | undefined;
}

/**
 * Declares Reef's schedules as BullMQ Job Schedulers. Upserting is idempotent: every process may call
 * this at boot (several schedulers, restarts) and there is still exactly one schedule per id.
 */
export async function upsertSchedules(queue: Queue<SweepJobData>, config: ReefConfig): Promise<void> {
  await queue.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { pattern: config.schedule.checks, tz: config.timezone },
    { name: SWEEP_JOB, data: { trigger: 'schedule' } },
  );
}

/**
 * The Nightly Brainstorm's Job Scheduler: `schedule.brainstorm` (default 04:00) in `timezone`. BullMQ
 * computes each next run with cron-parser in that zone, so a daylight-saving change neither skips nor
 * doubles the run (see test/brainstorm/schedule-dst.test.ts).
 */
export async function upsertBrainstormSchedule(
  queue: Queue<BrainstormJobData>,
  config: ReefConfig,
): Promise<void> {
  await queue.upsertJobScheduler(
    BRAINSTORM_SCHEDULER_ID,
    { pattern: config.schedule.brainstorm, tz: config.timezone },
    { name: BRAINSTORM_JOB, data: { trigger: 'schedule' } },
  );
}

export async function listSchedules<D>(queue: Queue<D>): Promise<ScheduleInfo[]> {
  const schedulers = await queue.getJobSchedulers(0, -1, true);
  return schedulers.map((s) => ({ id: s.key, pattern: s.pattern, tz: s.tz, next: s.next }));
}
