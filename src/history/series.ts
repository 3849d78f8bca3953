/**
 * The vocabulary of metric history: what a series measures, how it is named in Redis, and the hourly
 * bucket every series is kept in. A series is one metric of one target (the latency of endpoint `api`,
 * the used space of `web-1:/var`); history keeps hourly buckets of it, which is what the Nightly
 * Brainstorm needs (drift over days, a forecast, a jump at a rollout) at a bounded cost.
 */

export const SERIES_KINDS = [
  /** Response time of a healthy HTTP answer, ms. */
  'http-latency',
  /** 1 when the endpoint answered as expected, 0 when not (mean = availability). */
  'http-up',
  /** Used space of a mount, %. */
  'disk-used',
  /** Days until the served certificate expires. */
  'cert-days',
  /** Matching log lines per hour (the errorLogs check's last window, scaled to an hour). */
  'error-rate',
  /** Container restarts of a workload seen in a sweep (summed per hour). */
  'restarts',
  /** OOM kills among those restarts (summed per hour). */
  'oom-kills',
] as const;
export type SeriesKind = (typeof SERIES_KINDS)[number];

/** What a series is about, kept with it (the latest values win). */
export interface SeriesMeta {
  kind: SeriesKind;
  /** The finding's target (`api`, `web-1:/var`) or, for restarts, `cluster/namespace/workload`. */
  target: string;
  /** Context for the report and for matching rollouts: cluster, namespace, workload, host, url, notAfter… */
  labels: Record<string, string>;
}

/** One observation of one series. */
export interface Sample {
  meta: SeriesMeta;
  value: number;
}

/** One hour of a series: how many samples, their sum and maximum, and the last one. */
export interface Bucket {
  /** Epoch ms of the start of the hour (UTC). */
  start: number;
  n: number;
  sum: number;
  max: number;
  last: number;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The id of a series: its kind and its (URI-encoded) target, e.g. `disk-used:web-1%3A%2Fvar`. */
export function seriesId(kind: SeriesKind, target: string): string {
  return `${kind}:${encodeURIComponent(target)}`;
}

export function kindOf(id: string): SeriesKind {
  return id.slice(0, id.indexOf(':')) as SeriesKind;
}

/** `20261128`: the UTC day a bucket key covers. */
export function dayStamp(ms: number): string {
  return new Date(ms - (ms % DAY_MS)).toISOString().slice(0, 10).replaceAll('-', '');
}

/** The mean of a bucket (the value for level metrics such as latency or disk use). */
export function mean(bucket: Bucket): number {
  return bucket.n === 0 ? 0 : bucket.sum / bucket.n;
}
