import { getNextMillis, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localDate, windowEndingAt, windowForDate } from '../../src/brainstorm/window.js';
import { scheduledAt } from '../../src/brainstorm/worker.js';
import { configSchema } from '../../src/config/schema.js';
import {
  BRAINSTORM_SCHEDULER_ID,
  type BrainstormJobData,
  brainstormQueue,
} from '../../src/schedule/queues.js';
import { listSchedules, upsertBrainstormSchedule } from '../../src/schedule/scheduler.js';
import { formatLocal } from '../../src/util/time.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const HOUR = 3_600_000;

/** Runs from `from` until past `until`, each computed from the previous one as the Job Scheduler does. */
function runsBetween(pattern: string, tz: string, from: number, until: number): number[] {
  const runs: number[] = [];
  let at = from;
  while (at < until) {
    at = getNextMillis(at, { pattern, tz })!;
    runs.push(at);
  }
  return runs;
}

/** Each run once per local date at 04:00, and report windows that tile time exactly. */
function expectDailyAtFour(runs: readonly number[], tz: string, changeDay: string, changeHours: number) {
  const dates = runs.map((r) => localDate(r, tz));
  expect(new Set(dates).size).toBe(runs.length);
  for (const r of runs) expect(formatLocal(r, tz)).toMatch(/ 04:00 /);
  const windows = runs.map((r) => windowEndingAt(new Date(r), tz));
  windows.forEach((w, i) => {
    expect(w.date).toBe(dates[i]);
    if (i > 0) expect(w.from.getTime()).toBe(windows[i - 1]!.to.getTime());
    expect((w.to.getTime() - w.from.getTime()) / HOUR).toBe(w.date === changeDay ? changeHours : 24);
  });
  expect(dates).toContain(changeDay);
}

describe('the 04:00 Brainstorm across daylight-saving changes', () => {
  it.each([
    ['Europe/Berlin', '2026-03-29', 23],
    ['Europe/Berlin', '2026-10-25', 25],
    ['America/New_York', '2026-03-08', 23],
    ['America/New_York', '2026-11-01', 25],
  ])('%s on %s: one run a day at 04:00, windows of %i hours that day and 24 otherwise', (tz, day, hours) => {
    const change = Date.parse(`${day}T12:00:00Z`);
    const runs = runsBetween('0 4 * * *', tz, change - 4 * 86_400_000, change + 3 * 86_400_000);
    expect(runs.length).toBeGreaterThanOrEqual(7);
    expectDailyAtFour(runs, tz, day, hours);
  });

  it('dates a report in the zone and computes the night of a given date as the schedule would', () => {
    expect(windowForDate('2026-03-29', '0 4 * * *', 'Europe/Berlin')).toEqual({
      date: '2026-03-29',
      from: new Date('2026-03-28T03:00:00Z'),
      to: new Date('2026-03-29T02:00:00Z'),
      timezone: 'Europe/Berlin',
    });
    expect(windowForDate('2026-11-01', '0 4 * * *', 'America/New_York')).toEqual({
      date: '2026-11-01',
      from: new Date('2026-10-31T08:00:00Z'),
      to: new Date('2026-11-01T09:00:00Z'),
      timezone: 'America/New_York',
    });
    // 23:30 UTC on the 28th is already the 29th in Berlin.
    expect(windowEndingAt(new Date('2026-03-28T23:30:00Z'), 'Europe/Berlin').date).toBe('2026-03-29');
  });
});

describe('the Brainstorm Job Scheduler on a real Redis', () => {
  let redis: Redis;
  let prefix: string;
  const queues: Queue<BrainstormJobData>[] = [];

  beforeEach(() => {
    redis = connect();
    prefix = uniquePrefix('bs-sched');
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  const queue = () => {
    const q = brainstormQueue({ url: redisUrl() }, prefix);
    queues.push(q);
    return q;
  };

  it.each(['Europe/Berlin', 'America/New_York'])(
    'upserts schedule.brainstorm in %s: one scheduler, next run at 04:00 local, idempotent',
    async (tz) => {
      const config = configSchema.parse({ timezone: tz });
      await Promise.all([
        upsertBrainstormSchedule(queue(), config),
        upsertBrainstormSchedule(queue(), config),
      ]);
      await upsertBrainstormSchedule(queue(), config);
      const schedules = await listSchedules(queue());
      expect(schedules).toHaveLength(1);
      expect(schedules[0]).toMatchObject({ id: BRAINSTORM_SCHEDULER_ID, pattern: '0 4 * * *', tz });
      expect(formatLocal(schedules[0]!.next!, tz)).toMatch(/ 04:00 /);
      // The job it queued carries its due time, which dates the report.
      const [job] = await queue().getDelayed();
      expect(job).toBeDefined();
      const due = scheduledAt(job!, new Date(0));
      expect(due).toBe(schedules[0]!.next);
      expect(windowEndingAt(new Date(due), tz).date).toBe(localDate(due, tz));
    },
  );

  it.each([
    ['Europe/Berlin', '2027-03-28', 23],
    ['Europe/Berlin', '2027-10-31', 25],
    ['America/New_York', '2027-03-14', 23],
    ['America/New_York', '2027-11-07', 25],
  ])('BullMQ itself schedules across the next change in %s (%s)', async (tz, day, hours) => {
    // Upserting with a start date makes BullMQ compute the next run after it: walk the days one by one.
    const q = queue();
    const runs: number[] = [];
    let start = Date.parse(`${day}T12:00:00Z`) - 3 * 86_400_000;
    for (let i = 0; i < 6; i++) {
      await q.upsertJobScheduler(
        BRAINSTORM_SCHEDULER_ID,
        { pattern: '0 4 * * *', tz, startDate: new Date(start + 1) },
        { name: 'brainstorm', data: { trigger: 'schedule' } },
      );
      const scheduler = await q.getJobScheduler(BRAINSTORM_SCHEDULER_ID);
      runs.push(scheduler!.next!);
      start = scheduler!.next!;
    }
    expectDailyAtFour(runs, tz, day, hours);
  });
});
