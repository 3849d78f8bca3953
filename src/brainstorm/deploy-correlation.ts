import type { SeriesInfo } from '../history/metric-history.js';
import { type Bucket, DAY_MS, HOUR_MS } from '../history/series.js';
import type { CorrelationRow } from './report.js';
import { type Rollout, selectorMatches } from './rollouts.js';
import { percentChange, round, spanMean, spanSum } from './trend.js';

/**
 * Deployment rollouts matched to the start of a change: for each rollout, the error rates of the
 * errorLogs targets that read its pods (same cluster and namespace, selector matching its pod labels;
 * or, for a log file, a target named like the Deployment) and the restarts of the workload itself,
 * compared over the day before and the day after (the hour of the rollout left out). A rise of at least
 * `changePercent`, or restarts that start from none, is reported.
 */

const SIDE_MS = DAY_MS;
/** Hours of data each side needs before a level (an error rate) is compared. */
const MIN_HOURS = 3;
/** Restarts after a rollout that count as a change from none. */
const MIN_NEW_RESTARTS = 3;

export function relatedSeries(rollout: Rollout, series: readonly SeriesInfo[]): SeriesInfo[] {
  return series.filter(({ meta }) => {
    const l = meta.labels;
    if (meta.kind === 'restarts')
      return (
        l.cluster === rollout.cluster &&
        l.namespace === rollout.namespace &&
        l.workload === rollout.deployment
      );
    if (meta.kind !== 'error-rate') return false;
    if (l.cluster !== undefined)
      return (
        l.cluster === rollout.cluster &&
        l.namespace === rollout.namespace &&
        l.selector !== undefined &&
        selectorMatches(l.selector, rollout.podLabels)
      );
    return meta.target === rollout.deployment;
  });
}

export function correlate(
  rollout: Rollout,
  info: SeriesInfo,
  buckets: readonly Bucket[],
  to: number,
  changePercent: number,
): CorrelationRow | undefined {
  const hour = rollout.at - (rollout.at % HOUR_MS);
  const beforeFrom = rollout.at - SIDE_MS;
  const afterTo = Math.min(rollout.at + SIDE_MS, to);
  const base = {
    cluster: rollout.cluster,
    namespace: rollout.namespace,
    deployment: rollout.deployment,
    revision: rollout.revision,
    rolloutAt: new Date(rollout.at).toISOString(),
    series: info.meta.target,
  };
  if (info.meta.kind === 'error-rate') {
    const before = spanMean(buckets, beforeFrom, hour);
    const after = spanMean(buckets, hour + HOUR_MS, afterTo);
    if (!before || !after || before.hours < MIN_HOURS || after.hours < MIN_HOURS) return undefined;
    const change = percentChange(before.value, after.value);
    if (change === undefined ? after.value <= 0 : change < changePercent) return undefined;
    return {
      ...base,
      metric: 'error-rate',
      before: round(before.value, 2),
      after: round(after.value, 2),
      unit: '/h',
      changePercent: change === undefined ? null : round(change),
    };
  }
  const hoursBefore = (hour - Math.max(beforeFrom, hour - SIDE_MS)) / HOUR_MS;
  const hoursAfter = Math.max(0, afterTo - (hour + HOUR_MS)) / HOUR_MS;
  if (hoursAfter < MIN_HOURS) return undefined;
  const restartsBefore = spanSum(buckets, beforeFrom, hour);
  const restartsAfter = spanSum(buckets, hour + HOUR_MS, afterTo);
  const before = restartsBefore / hoursBefore;
  const after = restartsAfter / hoursAfter;
  const change = percentChange(before, after);
  if (change === undefined ? restartsAfter < MIN_NEW_RESTARTS : change < changePercent) return undefined;
  return {
    ...base,
    metric: 'restarts',
    before: round(before, 2),
    after: round(after, 2),
    unit: '/h',
    changePercent: change === undefined ? null : round(change),
  };
}
