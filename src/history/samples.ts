import type { ReefConfig } from '../config/schema.js';
import type { Facts, Finding } from '../findings/finding.js';
import { HOUR_MS, type Sample, type SeriesKind, type SeriesMeta, seriesId } from './series.js';

/**
 * Turns one sweep's findings into compact samples: the few numbers per target that the Nightly
 * Brainstorm trends (latency, availability, disk use, certificate days, error rate, restarts). A target
 * with several findings (a mount both `disk-high` and `inodes-high`) gives one sample per series.
 */

/** A container's restart count as last recorded, keyed by `cluster/namespace/pod/container`. */
export type RestartCounts = ReadonlyMap<string, number>;

export interface SweepSamples {
  samples: Sample[];
  /** The restart count of every container seen now, to remember for the next sweep. */
  restartCounts: Map<string, number>;
}

/** The restart-count keys of the containers these findings mention (to look up their last counts). */
export function restartKeysOf(findings: readonly Finding[]): string[] {
  const keys = new Set<string>();
  for (const f of findings) {
    const key = restartKey(f);
    if (key) keys.add(key);
  }
  return [...keys];
}

export function samplesFromFindings(
  findings: readonly Finding[],
  config: ReefConfig,
  remembered: RestartCounts,
): SweepSamples {
  const byId = new Map<string, Sample>();
  const add = (kind: SeriesKind, target: string, value: number, labels: Record<string, string> = {}) => {
    if (!Number.isFinite(value)) return;
    const id = seriesId(kind, target);
    if (!byId.has(id)) byId.set(id, { meta: { kind, target, labels }, value });
  };
  const restarts = new Map<string, { meta: SeriesMeta; restarts: number; oom: number }>();
  const restartCounts = new Map<string, number>();

  for (const f of findings) {
    const facts = f.facts;
    switch (f.check) {
      case 'http': {
        add('http-up', f.target, f.severity === 'ok' ? 1 : 0, labelsOf({ url: facts.url }));
        if (f.severity === 'ok' && typeof facts.status === 'number')
          add('http-latency', f.target, num(facts.latencyMs), labelsOf({ url: facts.url }));
        break;
      }
      case 'certificate': {
        if (typeof facts.daysLeft === 'number')
          add(
            'cert-days',
            f.target,
            facts.daysLeft,
            labelsOf({ url: facts.url, notAfter: facts.notAfter, subject: facts.subject }),
          );
        break;
      }
      case 'disk': {
        if (typeof facts.usedPercent === 'number')
          add(
            'disk-used',
            f.target,
            facts.usedPercent,
            labelsOf({ host: facts.host, mount: facts.mount, sizeBytes: facts.sizeBytes }),
          );
        break;
      }
      case 'errorLogs': {
        const windowMs = num(facts.windowMs);
        if (typeof facts.current === 'number' && windowMs > 0) {
          const target = config.checks.errorLogs.find((t) => t.name === f.target);
          add(
            'error-rate',
            f.target,
            (facts.current * HOUR_MS) / windowMs,
            labelsOf({
              cluster: target?.cluster,
              namespace: target?.namespace,
              selector: target?.selector,
              host: target?.host,
              path: target?.path,
            }),
          );
        }
        break;
      }
      case 'pods': {
        const key = restartKey(f);
        if (!key || typeof facts.restartCount !== 'number') break;
        const count = facts.restartCount;
        if (restartCounts.has(key)) break;
        restartCounts.set(key, count);
        const delta = restartDelta(f, facts, count, remembered.get(key));
        if (delta === 0) break;
        const workload = String(facts.ownerName ?? facts.pod ?? f.target);
        const target = `${str(facts.cluster)}/${str(facts.namespace)}/${workload}`;
        const entry = restarts.get(target) ?? {
          meta: {
            kind: 'restarts' as const,
            target,
            labels: labelsOf({
              cluster: facts.cluster,
              namespace: facts.namespace,
              workload,
              ownerKind: facts.ownerKind,
            }),
          },
          restarts: 0,
          oom: 0,
        };
        entry.restarts += delta;
        if (f.condition === 'OOMKilled' || facts.lastTerminationReason === 'OOMKilled') entry.oom += delta;
        restarts.set(target, entry);
        break;
      }
    }
  }
  const samples = [...byId.values()];
  for (const { meta, restarts: n, oom } of restarts.values()) {
    samples.push({ meta, value: n });
    if (oom > 0) samples.push({ meta: { ...meta, kind: 'oom-kills' }, value: oom });
  }
  return { samples, restartCounts };
}

/**
 * Restarts seen since the container was last recorded. Without a record: the check's own previous count
 * (a `restarting` finding carries it), else one for a recent OOM kill (the finding says it happened
 * within the hour), else none (a crash loop seen for the first time is counted from now on).
 */
function restartDelta(f: Finding, facts: Facts, count: number, last: number | undefined): number {
  if (last !== undefined) return Math.max(0, count - last);
  if (typeof facts.previousRestartCount === 'number') return Math.max(0, count - facts.previousRestartCount);
  return f.condition === 'OOMKilled' ? 1 : 0;
}

function restartKey(f: Finding): string | undefined {
  if (f.check !== 'pods') return undefined;
  const { cluster, namespace, pod, container } = f.facts;
  if (typeof container !== 'string' || typeof pod !== 'string') return undefined;
  return `${str(cluster)}/${str(namespace)}/${pod}/${container}`;
}

function labelsOf(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values))
    if (value !== undefined && value !== null && value !== '') out[key] = String(value);
  return out;
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number.NaN;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
