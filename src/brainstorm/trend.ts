import { type Bucket, DAY_MS, HOUR_MS, mean } from '../history/series.js';

/**
 * The arithmetic of trends, kept apart from the report so each number the report prints has one
 * definition: a least-squares line through hourly means (drift, disk growth), means over spans, and
 * per-day sums (restarts). Hourly buckets are placed at their middle.
 */

export interface Line {
  slope: number;
  intercept: number;
  points: number;
}

/** Least-squares line through (x, y); undefined with fewer than two distinct x. */
export function linearFit(points: readonly { x: number; y: number }[]): Line | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, points: n };
}

/** Buckets as points: x in days since `origin`, y the bucket's mean. */
export function dailyPoints(buckets: readonly Bucket[], origin: number): { x: number; y: number }[] {
  return buckets.map((b) => ({ x: (b.start + HOUR_MS / 2 - origin) / DAY_MS, y: mean(b) }));
}

/** Mean of the bucket means within [from, to), with how many hours it rests on. */
export function spanMean(
  buckets: readonly Bucket[],
  from: number,
  to: number,
): { value: number; hours: number } | undefined {
  let sum = 0;
  let hours = 0;
  for (const b of buckets) {
    if (b.start < from || b.start >= to) continue;
    sum += mean(b);
    hours++;
  }
  return hours === 0 ? undefined : { value: sum / hours, hours };
}

/** Sum of the bucket sums within [from, to) (for counts such as restarts). */
export function spanSum(buckets: readonly Bucket[], from: number, to: number): number {
  let sum = 0;
  for (const b of buckets) if (b.start >= from && b.start < to) sum += b.sum;
  return sum;
}

/** `(to - from) / |from|` in %, or undefined when the base is (nearly) zero. */
export function percentChange(from: number, to: number): number | undefined {
  if (!Number.isFinite(from) || !Number.isFinite(to) || Math.abs(from) < 1e-9) return undefined;
  return ((to - from) / Math.abs(from)) * 100;
}

/** Rounds for display and for the numbers a reader (or an LLM check) compares. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
