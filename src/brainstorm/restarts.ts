import { type Bucket, DAY_MS, type SeriesMeta } from '../history/series.js';
import type { RestartRow } from './report.js';
import { linearFit, spanSum } from './trend.js';

/**
 * Restart frequency per workload over the last 7 days, split into the 24-hour days that end with the
 * report. A slow memory leak shows as OOM kills that keep coming and come faster: at least 3 in the
 * week, a rising line through the daily counts, and a last day busier than the first.
 */
export function restartRow(
  meta: SeriesMeta,
  restarts: readonly Bucket[],
  ooms: readonly Bucket[],
  to: number,
): RestartRow | undefined {
  const restarts7d = spanSum(restarts, to - 7 * DAY_MS, to);
  if (restarts7d === 0) return undefined;
  const oomPerDay: number[] = [];
  for (let d = 6; d >= 0; d--) oomPerDay.push(spanSum(ooms, to - (d + 1) * DAY_MS, to - d * DAY_MS));
  const oom7d = oomPerDay.reduce((a, b) => a + b, 0);
  const line = linearFit(oomPerDay.map((y, x) => ({ x, y })));
  const first = oomPerDay.find((n) => n > 0) ?? 0;
  return {
    target: meta.target,
    cluster: meta.labels.cluster ?? '',
    namespace: meta.labels.namespace ?? '',
    workload: meta.labels.workload ?? meta.target,
    restarts24h: spanSum(restarts, to - DAY_MS, to),
    restarts7d,
    oom24h: oomPerDay[6] ?? 0,
    oom7d,
    oomPerDay,
    leakSuspected: oom7d >= 3 && (line?.slope ?? 0) > 0 && (oomPerDay[6] ?? 0) > first,
  };
}
