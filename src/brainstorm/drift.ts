import { type Bucket, DAY_MS } from '../history/series.js';
import type { DriftRow } from './report.js';
import { dailyPoints, linearFit, percentChange, round, spanMean } from './trend.js';

/**
 * Slow drift of a level (an error rate, a latency): a least-squares line through the last 7 days of
 * hourly means, read at both ends ("+15 % over 7 days"), plus week over week and weekly means for up to
 * 5 weeks. A line needs a day's worth of hourly points spread over at least 3 days, so a target added
 * yesterday is not said to drift.
 */

const WEEK_MS = 7 * DAY_MS;
const MIN_POINTS = 24;
const MIN_SPAN_DAYS = 3;
/** A week counts for week over week when a quarter of its hours have data. */
const MIN_WEEK_HOURS = 42;

export function driftOf(
  kind: DriftRow['kind'],
  target: string,
  buckets: readonly Bucket[],
  to: number,
): DriftRow | undefined {
  const origin = to - WEEK_MS;
  const recent = buckets.filter((b) => b.start >= origin && b.start < to);
  const points = dailyPoints(recent, origin);
  if (points.length < MIN_POINTS) return undefined;
  if (points.at(-1)!.x - points[0]!.x < MIN_SPAN_DAYS) return undefined;
  const line = linearFit(points);
  if (!line) return undefined;
  const start = line.intercept;
  const end = line.intercept + line.slope * 7;
  const change = percentChange(start, end);
  if (change === undefined || start <= 0) return undefined;
  const thisWeek = spanMean(buckets, origin, to);
  const lastWeek = spanMean(buckets, origin - WEEK_MS, origin);
  const weekOverWeek =
    thisWeek && lastWeek && thisWeek.hours >= MIN_WEEK_HOURS && lastWeek.hours >= MIN_WEEK_HOURS
      ? percentChange(lastWeek.value, thisWeek.value)
      : undefined;
  const weekly: (number | null)[] = [];
  for (let w = 4; w >= 0; w--) {
    const m = spanMean(buckets, to - (w + 1) * WEEK_MS, to - w * WEEK_MS);
    weekly.push(m ? round(m.value, 2) : null);
  }
  while (weekly.length > 1 && weekly[0] === null) weekly.shift();
  return {
    kind,
    target,
    unit: kind === 'error-rate' ? '/h' : 'ms',
    start: round(start, 2),
    end: round(end, 2),
    changePercent: round(change),
    weekOverWeekPercent: weekOverWeek === undefined ? null : round(weekOverWeek),
    weekly,
    points: line.points,
  };
}
