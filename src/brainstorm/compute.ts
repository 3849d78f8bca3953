import type { Clock } from '../adapters/clock.js';
import type { KubePort } from '../adapters/kubernetes.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ReefConfig } from '../config/schema.js';
import type { IncidentHistory } from '../history/incident-history.js';
import type { MetricHistory, SeriesInfo } from '../history/metric-history.js';
import { type Bucket, DAY_MS, seriesId } from '../history/series.js';
import type { IncidentStore } from '../incidents/store.js';
import { parseDuration } from '../util/duration.js';
import { certificatesDue } from './certificates.js';
import { correlate, relatedSeries } from './deploy-correlation.js';
import { diskForecast } from './disk-forecast.js';
import { driftOf } from './drift.js';
import { flappingTargets } from './flapping.js';
import { summarizeIncidents } from './incident-summary.js';
import type { BrainstormReport, CorrelationRow, DiskRow, DriftRow, RestartRow } from './report.js';
import { restartRow } from './restarts.js';
import { readRollouts } from './rollouts.js';
import { failedRunbooks, promotionCandidates } from './runbook-record.js';
import { suggestionsFor } from './suggestions.js';
import type { ReportWindow } from './window.js';

/** Where the Brainstorm reads from. Every source is a real store or port; nothing is computed by an LLM. */
export interface BrainstormSources {
  config: ReefConfig;
  clock: Clock;
  metrics: MetricHistory;
  incidents: IncidentHistory;
  store: IncidentStore;
  audit: AuditLog;
  /** For deploy correlation; without it (no clusters) that section says so. */
  kube?: KubePort;
  /** A runbook's mode from the loaded catalog (promotion is suggested for mode `approve` only). */
  modeOf?: (runbookId: string) => string | null;
}

const WEEK_MS = 7 * DAY_MS;
/** Drift shows weekly means over this much history (the default retention). */
const TREND_MS = 35 * DAY_MS;
/** The newest incidents read for flapping (more openings than this in one flap window is its own alarm). */
const FLAP_SCAN = 2000;
/** Audit entries read for the runbook record. */
const AUDIT_LIMIT = 100_000;

/** Computes the report for a window. Reads only; writing and posting are `runBrainstorm`'s. */
export async function computeReport(
  sources: BrainstormSources,
  window: ReportWindow,
): Promise<BrainstormReport> {
  const { config } = sources;
  const settings = config.brainstorm;
  const to = window.to.getTime();
  const notes: string[] = [];
  const series = await sources.metrics.series();
  const ofKind = (kind: SeriesInfo['meta']['kind']) => series.filter((s) => s.meta.kind === kind);
  const levels = [...ofKind('error-rate'), ...ofKind('http-latency')];
  const restarts = ofKind('restarts');
  const disks = ofKind('disk-used');
  const trendFrom = to - Math.min(TREND_MS, sources.metrics.retentionMs);
  if (series.length === 0)
    notes.push(
      'No metric history yet: sweeps record it from now on (drift, forecasts and restarts need days of it).',
    );

  // Series are read and judged a batch at a time, so memory stays flat however many targets there are.
  const driftRows: DriftRow[] = [];
  await inBatches(sources, levels, trendFrom, to, (s, buckets) => {
    const row = driftOf(s.meta.kind as DriftRow['kind'], s.meta.target, buckets(s.id), to);
    if (row && Math.abs(row.changePercent) >= settings.changePercent) driftRows.push(row);
  });
  const drift = (kind: DriftRow['kind']) =>
    cap(
      driftRows
        .filter((r) => r.kind === kind)
        .sort((a, b) => Math.abs(b.changePercent) - Math.abs(a.changePercent)),
      settings.maxRows,
      `${kind === 'error-rate' ? 'error-rate' : 'latency'} drifts`,
      notes,
    );
  const errorDrift = drift('error-rate');
  const latencyDrift = drift('http-latency');

  const disksFilling: DiskRow[] = [];
  await inBatches(sources, disks, to - WEEK_MS, to, (s, buckets) => {
    const row = diskForecast(s.meta.target, buckets(s.id), to);
    if (row && row.daysToFull <= settings.diskHorizonDays) disksFilling.push(row);
  });
  const diskRows = cap(
    disksFilling.sort((a, b) => a.daysToFull - b.daysToFull),
    settings.maxRows,
    'disk forecasts',
    notes,
  );

  const restarting: RestartRow[] = [];
  await inBatches(
    sources,
    restarts,
    to - WEEK_MS,
    to,
    (s, buckets) => {
      const row = restartRow(s.meta, buckets(s.id), buckets(seriesId('oom-kills', s.meta.target)), to);
      if (row) restarting.push(row);
    },
    (s) => [s.id, seriesId('oom-kills', s.meta.target)],
  );
  const restartRows = cap(
    restarting.sort(
      (a, b) =>
        Number(b.leakSuspected) - Number(a.leakSuspected) ||
        b.restarts24h - a.restarts24h ||
        b.restarts7d - a.restarts7d,
    ),
    settings.maxRows,
    'restarting workloads',
    notes,
  );

  const flapWindowMs = parseDuration(config.incidents.flapWindow) ?? DAY_MS;
  const [entries, recentIncidents, audit] = await Promise.all([
    sources.incidents.read(window.from.getTime(), to),
    sources.store.list({ limit: FLAP_SCAN }),
    sources.audit.read({ since: new Date(to - TREND_MS - DAY_MS), limit: AUDIT_LIMIT }),
  ]);
  const auditBefore = audit.filter((e) => Date.parse(e.at) < to);

  const deployments = await correlateDeployments(sources, [...ofKind('error-rate'), ...restarts], to, notes);

  const base: Omit<BrainstormReport, 'suggestions'> = {
    date: window.date,
    timezone: window.timezone,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    generatedAt: sources.clock.now().toISOString(),
    summary: summarizeIncidents(entries),
    errorDrift,
    latencyDrift,
    examined: {
      errorRate: ofKind('error-rate').length,
      latency: ofKind('http-latency').length,
      disks: disks.length,
      workloads: restarts.length,
    },
    restarts: restartRows,
    disks: diskRows,
    certificates: certificatesDue(series, to, settings.certificateDays, window.timezone),
    flapping: flappingTargets(recentIncidents, to, flapWindowMs, config.incidents.flapThreshold),
    promotions: promotionCandidates(auditBefore, settings.promoteAfter, sources.modeOf ?? (() => null)),
    failedRunbooks: failedRunbooks(auditBefore, to - WEEK_MS, to),
    deployments: cap(deployments, settings.maxRows, 'rollout correlations', notes),
    notes,
    thresholds: {
      changePercent: settings.changePercent,
      certificateDays: settings.certificateDays,
      diskHorizonDays: settings.diskHorizonDays,
      promoteAfter: settings.promoteAfter,
    },
  };
  return { ...base, suggestions: suggestionsFor(base) };
}

async function correlateDeployments(
  sources: BrainstormSources,
  candidates: readonly SeriesInfo[],
  to: number,
  notes: string[],
): Promise<CorrelationRow[]> {
  if (Object.keys(sources.config.clusters).length === 0) return [];
  if (!sources.kube) {
    notes.push('Deploy correlation skipped: no Kubernetes access in this process.');
    return [];
  }
  const read = await readRollouts(sources.config, sources.kube, to - WEEK_MS, to);
  notes.push(...read.notes);
  const pairs = read.rollouts.flatMap((rollout) =>
    relatedSeries(rollout, candidates).map((info) => ({ rollout, info })),
  );
  const buckets = await sources.metrics.buckets(
    [...new Set(pairs.map((p) => p.info.id))],
    to - WEEK_MS - DAY_MS,
    to,
  );
  const rows: CorrelationRow[] = [];
  for (const { rollout, info } of pairs) {
    const row = correlate(
      rollout,
      info,
      buckets.get(info.id) ?? [],
      to,
      sources.config.brainstorm.changePercent,
    );
    if (row) rows.push(row);
  }
  return rows.sort(
    (a, b) => (b.changePercent ?? Number.POSITIVE_INFINITY) - (a.changePercent ?? Number.POSITIVE_INFINITY),
  );
}

/** Series per read: bounds the buckets held at once (100 series × 35 days ≈ 84,000 buckets). */
const BATCH = 100;

/** Reads the buckets of `series` in [from, to) a batch at a time and hands each series to `judge`. */
async function inBatches(
  sources: BrainstormSources,
  series: readonly SeriesInfo[],
  from: number,
  to: number,
  judge: (s: SeriesInfo, buckets: (id: string) => Bucket[]) => void,
  idsOf: (s: SeriesInfo) => string[] = (s) => [s.id],
): Promise<void> {
  for (let i = 0; i < series.length; i += BATCH) {
    const batch = series.slice(i, i + BATCH);
    const read = await sources.metrics.buckets(batch.flatMap(idsOf), from, to);
    for (const s of batch) judge(s, (id) => read.get(id) ?? []);
  }
}

/** The first `max` rows; a note counts the rest, so a long table never hides that it was cut. */
function cap<T>(rows: T[], max: number, what: string, notes: string[]): T[] {
  if (rows.length <= max) return rows;
  notes.push(
    `${rows.length - max} more ${what} past the threshold are not listed (brainstorm.maxRows is ${max}).`,
  );
  return rows.slice(0, max);
}
