import type { Redis } from 'ioredis';
import type { ReefConfig } from '../config/schema.js';
import type { Finding } from '../findings/finding.js';
import { parseDuration } from '../util/duration.js';
import { IncidentHistory } from './incident-history.js';
import { MetricHistory } from './metric-history.js';
import { restartKeysOf, samplesFromFindings } from './samples.js';
import { DAY_MS } from './series.js';

/** `history.retention` in ms (35 days unless configured). */
export function retentionOf(config: ReefConfig): number {
  return parseDuration(config.history.retention) ?? 35 * DAY_MS;
}

export function metricHistory(redis: Redis, prefix: string, config: ReefConfig): MetricHistory {
  return new MetricHistory(redis, prefix, retentionOf(config));
}

export function incidentHistory(redis: Redis, prefix: string, config: ReefConfig): IncidentHistory {
  return new IncidentHistory(redis, prefix, retentionOf(config));
}

/**
 * What a worker records after every sweep (see `processSweep`): the sweep's findings as compact
 * samples in metric history. Restart counts are remembered per container so the next sweep counts
 * only new restarts.
 */
export async function recordSweep(
  redis: Redis,
  prefix: string,
  config: ReefConfig,
  findings: readonly Finding[],
  at: Date,
): Promise<number> {
  const history = metricHistory(redis, prefix, config);
  const remembered = await history.rememberedRestarts(restartKeysOf(findings), at);
  const { samples, restartCounts } = samplesFromFindings(findings, config, remembered);
  await history.record(samples, at);
  await history.rememberRestarts(restartCounts, at);
  return samples.length;
}
