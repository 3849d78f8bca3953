import { type Bucket, DAY_MS } from '../history/series.js';
import type { DiskRow } from './report.js';
import { dailyPoints, linearFit, round } from './trend.js';

/**
 * When a mount fills up at the pace of the last 7 days: a least-squares line through the hourly mean
 * use (percentage points per day), extended from the latest reading to 100 %. A flat or shrinking
 * mount has no forecast; so has one with less than a day of history.
 */

const LOOKBACK_MS = 7 * DAY_MS;
const MIN_POINTS = 12;
/** Growth below this (points per day) is noise, not a trend: 0.05 %/day fills 10 % in 200 days. */
const MIN_GROWTH = 0.05;

export function diskForecast(target: string, buckets: readonly Bucket[], to: number): DiskRow | undefined {
  const origin = to - LOOKBACK_MS;
  const recent = buckets.filter((b) => b.start >= origin && b.start < to);
  const points = dailyPoints(recent, origin);
  if (points.length < MIN_POINTS || points.at(-1)!.x - points[0]!.x < 1) return undefined;
  const line = linearFit(points);
  if (!line || line.slope < MIN_GROWTH) return undefined;
  const latest = recent.at(-1)!;
  const used = latest.last;
  const daysToFull = Math.max(0, (100 - used) / line.slope);
  const measuredAt = latest.start + 3_600_000;
  return {
    target,
    usedPercent: round(used),
    growthPerDay: round(line.slope, 2),
    daysToFull: round(daysToFull, 1),
    fullAt: new Date(Math.max(to, measuredAt + daysToFull * DAY_MS)).toISOString(),
    points: line.points,
  };
}
