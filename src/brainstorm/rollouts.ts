import type { KubePort } from '../adapters/kubernetes.js';
import type { ReefConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';

/**
 * Deployment rollouts seen through the Kubernetes adapter: each ReplicaSet a Deployment created is one
 * revision rolling out at the ReplicaSet's creation time. Read from the clusters and namespaces the pods
 * and errorLogs checks watch; a cluster that cannot be read becomes a note in the report, not a failure.
 */
export interface Rollout {
  cluster: string;
  namespace: string;
  deployment: string;
  revision: string;
  /** Epoch ms. */
  at: number;
  podLabels: Readonly<Record<string, string>>;
}

/** Where to look: cluster → namespaces (`undefined` in the set: every namespace). */
export function rolloutScopes(config: ReefConfig): Map<string, Set<string | undefined>> {
  const scopes = new Map<string, Set<string | undefined>>();
  const add = (cluster: string, namespaces: readonly string[] | undefined) => {
    const set = scopes.get(cluster) ?? new Set<string | undefined>();
    if (namespaces === undefined) set.add(undefined);
    else for (const ns of namespaces) set.add(ns);
    scopes.set(cluster, set);
  };
  for (const t of config.checks.pods) add(t.cluster, t.namespaces ?? config.clusters[t.cluster]?.namespaces);
  for (const t of config.checks.errorLogs)
    if (t.cluster !== undefined && t.namespace !== undefined) add(t.cluster, [t.namespace]);
  for (const [cluster, set] of scopes) if (set.has(undefined)) scopes.set(cluster, new Set([undefined]));
  return scopes;
}

/** Rollouts within [from, to), and a note per cluster or namespace that could not be read. */
export async function readRollouts(
  config: ReefConfig,
  kube: KubePort,
  from: number,
  to: number,
): Promise<{ rollouts: Rollout[]; notes: string[] }> {
  const rollouts: Rollout[] = [];
  const notes: string[] = [];
  for (const [cluster, namespaces] of rolloutScopes(config)) {
    for (const namespace of namespaces) {
      try {
        for (const rs of await kube.listReplicaSets(cluster, namespace)) {
          const at = Date.parse(rs.metadata.creationTimestamp ?? '');
          if (!rs.deployment || Number.isNaN(at) || at < from || at >= to) continue;
          rollouts.push({
            cluster,
            namespace: rs.metadata.namespace,
            deployment: rs.deployment,
            revision: rs.revision ?? rs.metadata.name,
            at,
            podLabels: rs.podLabels,
          });
        }
      } catch (error) {
        const where = namespace === undefined ? `cluster ${cluster}` : `${cluster}/${namespace}`;
        notes.push(
          `Rollouts of ${where} could not be read (${errorMessage(error)}); deploy correlation skips it.`,
        );
      }
    }
  }
  return { rollouts: rollouts.sort((a, b) => a.at - b.at), notes };
}

/** Whether an equality label selector (`app=web,tier==api`, `!canary`, `role!=batch`) selects these labels. */
export function selectorMatches(selector: string, labels: Readonly<Record<string, string>>): boolean {
  const requirements = selector.split(',').map((r) => r.trim());
  if (requirements.some((r) => /\s(in|notin)\s/.test(r) || r.includes('('))) return false;
  return requirements.every((r) => {
    const m = /^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$/.exec(r);
    if (m) return m[2] === '!=' ? labels[m[1]!] !== m[3] : labels[m[1]!] === m[3];
    if (r.startsWith('!')) return !(r.slice(1) in labels);
    return r.length > 0 && r in labels;
  });
}
