import { CronExpressionParser } from 'cron-parser';
import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';
import { ReefError } from '../errors.js';

dayjs.extend(utc);
dayjs.extend(timezone);

/**
 * The stretch of time a Brainstorm report covers, in the configured zone. A report is dated by the local
 * day of its end, and starts at the same wall-clock time one local day earlier: consecutive 04:00 runs
 * tile time exactly, so the night the clocks spring forward the report covers 23 hours and the night
 * they fall back 25, and no hour is reviewed twice or skipped. Wall-clock arithmetic goes through local
 * date strings: dayjs's `subtract(1, 'day')` on a zoned time is off by the DST shift.
 */
export interface ReportWindow {
  /** `YYYY-MM-DD`, the local date of `to`. */
  date: string;
  from: Date;
  to: Date;
  timezone: string;
}

/** The report whose window ends at `to` (a scheduled run, or now). */
export function windowEndingAt(to: Date, tz: string): ReportWindow {
  const local = dayjs(to).tz(tz);
  const date = local.format('YYYY-MM-DD');
  const from = atLocal(previousDate(date), local.format('HH:mm:ss'), tz);
  // Milliseconds are carried over by hand: the zone plugin parses whole seconds.
  return { date, from: new Date(from.getTime() + local.millisecond()), to, timezone: tz };
}

/**
 * The report of a past (or today's) date, as the schedule would have written it: its window ends at the
 * first run of `pattern` on that local date, or at the end of the date when the pattern has none.
 */
export function windowForDate(date: string, pattern: string, tz: string): ReportWindow {
  const start = atLocal(date, '00:00:00', tz);
  const next = CronExpressionParser.parse(pattern, { currentDate: new Date(start.getTime() - 1), tz })
    .next()
    .toDate();
  if (localDate(next, tz) === date) return windowEndingAt(next, tz);
  return { date, from: start, to: atLocal(nextDate(date), '00:00:00', tz), timezone: tz };
}

/** Checks a `--date` value: a real calendar date written `YYYY-MM-DD`. */
export function parseReportDate(text: string): string {
  const trimmed = text.trim();
  const parsed = dayjs.utc(trimmed);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(trimmed) || !parsed.isValid() || parsed.format('YYYY-MM-DD') !== trimmed) {
    throw new ReefError('reef_usage', `--date "${text}" is not a date written YYYY-MM-DD`, {
      hint: 'For example `reef brainstorm --date 2026-11-27` (a day in the configured time zone).',
    });
  }
  return trimmed;
}

/** `YYYY-MM-DD` of an instant in the zone. */
export function localDate(at: Date | number, tz: string): string {
  return dayjs(at).tz(tz).format('YYYY-MM-DD');
}

/** The instant of a local wall-clock time (`HH:mm:ss`) on a local date. */
export function atLocal(date: string, time: string, tz: string): Date {
  return dayjs.tz(`${date} ${time}`, tz).toDate();
}

export function previousDate(date: string): string {
  return dayjs.utc(date).subtract(1, 'day').format('YYYY-MM-DD');
}

export function nextDate(date: string): string {
  return dayjs.utc(date).add(1, 'day').format('YYYY-MM-DD');
}
