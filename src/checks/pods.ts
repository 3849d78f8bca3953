import type { KubePod } from '../adapters/kube-objects.js';
import { controllerOf } from '../adapters/kube-objects.js';
import type { KubePort } from '../adapters/kubernetes.js';
import type { PodsTarget, ReefConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import { type Finding, makeFinding } from '../findings/finding.js';
import { mapLimit } from '../util/concurrency.js';
import { parseDuration } from '../util/duration.js';
import type { Check, CheckMemory } from './check.js';
import { type PodContext, podFindings } from './pod-findings.js';

/** Restart counts are remembered this long: a pod unseen for a day is gone, or its history is moot. */
const RESTARTS_TTL_MS = 86_400_000;
const OWNER_LOOKUPS_IN_FLIGHT = 16;

/**
 * Pods of one cluster (the target's namespaces, else the cluster's, else all): crash loops, image pull
 * failures, OOM kills, long Pending, and restart counts rising since the previous sweep. Every pod gets a
 * finding (`ok` when healthy), so an incident of a pod that recovered or went away resolves.
 */
export const podsCheck: Check<PodsTarget> = {
  kind: 'pods',
  targets: (config: ReefConfig) =>
    config.checks.pods.map((t) => {
      const namespaces = t.namespaces ?? config.clusters[t.cluster]?.namespaces;
      return namespaces ? { ...t, namespaces } : t;
    }),
  nameOf: (target) => target.cluster,
  async probe(target, { kube, memory, clock }) {
    const lists = await Promise.all(
      (target.namespaces ?? [undefined]).map((namespace) =>
        kube.listPods(target.cluster, namespace === undefined ? {} : { namespace }),
      ),
    );
    const pods = lists.flatMap((l) => l.pods);
    const now = clock.now();
    if (pods.length === 0) {
      // Nothing to judge is still an answer (an empty namespace), not a check that failed.
      const where = target.namespaces
        ? `namespace${target.namespaces.length === 1 ? '' : 's'} ${target.namespaces.join(', ')}`
        : 'any namespace';
      return [
        makeFinding(
          {
            check: 'pods',
            target: target.cluster,
            condition: 'ok',
            severity: 'ok',
            summary: `no pods in ${where}`,
            facts: { cluster: target.cluster, pods: 0 },
          },
          now,
        ),
      ];
    }
    const previous = await Promise.all(pods.map((pod) => readRestarts(memory, target.cluster, pod)));
    const owners = new OwnerResolver(kube, target.cluster);
    const pendingAfterMs = parseDuration(target.pendingAfter) ?? 600_000;
    // Owner lookups (unhealthy pods only) overlap, but boundedly: a cluster-wide outage must not fire
    // thousands of requests at the API server at once.
    const judged = await mapLimit(pods, OWNER_LOOKUPS_IN_FLIGHT, (pod, i) =>
      assessPod(
        pod,
        {
          cluster: target.cluster,
          now,
          pendingAfterMs,
          previousRestarts: comparedWith(previous[i]!, 'sweep'),
        },
        owners,
      ),
    );
    const findings: Finding[] = judged.flat();
    await Promise.all(pods.map((pod, i) => rememberRestarts(memory, target.cluster, pod, previous[i]!)));
    return findings;
  },
};

/**
 * `podFindings` plus the one lookup it cannot do itself: for an unhealthy pod run by a ReplicaSet, which
 * Deployment owns that (healthy pods need no owner, so a sweep of thousands costs no extra calls).
 */
export async function assessPod(
  pod: KubePod,
  context: PodContext,
  owners: OwnerResolver,
): Promise<Finding[]> {
  const findings = podFindings(pod, context);
  const controller = controllerOf(pod.metadata);
  if (controller?.kind !== 'ReplicaSet' || findings.every((f) => f.severity === 'ok')) return findings;
  const resolved = await owners.resolve(pod.metadata.namespace, controller.name);
  return podFindings(pod, { ...context, ...resolved });
}

/** ReplicaSet → Deployment, each ReplicaSet asked once (per probe, or for as long as a watch keeps it). */
export class OwnerResolver {
  private readonly cache = new Map<string, Promise<{ owner: { kind: string; name: string } }>>();

  constructor(
    private readonly kube: KubePort,
    private readonly cluster: string,
    private readonly maxEntries = 10_000,
  ) {}

  async resolve(namespace: string, replicaSet: string): Promise<Pick<PodContext, 'owner' | 'ownerError'>> {
    const key = `${namespace}/${replicaSet}`;
    let pending = this.cache.get(key);
    if (!pending) {
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      pending = this.kube.getReplicaSet(this.cluster, namespace, replicaSet).then((rs) => {
        const parent = rs && controllerOf(rs.metadata);
        return { owner: parent?.kind === 'Deployment' ? parent : { kind: 'ReplicaSet', name: replicaSet } };
      });
      this.cache.set(key, pending);
    }
    try {
      const { owner } = await pending;
      return { owner: { kind: owner.kind, name: owner.name } };
    } catch (error) {
      // A missing permission on replicasets must not hide the pod's problem: report it with the pod.
      this.cache.delete(key);
      return { owner: { kind: 'ReplicaSet', name: replicaSet }, ownerError: errorMessage(error) };
    }
  }
}

/** The check-memory key of one container's restart count. */
export function restartsKey(cluster: string, namespace: string, pod: string, container: string): string {
  return `pods:restarts:${cluster}/${namespace}/${pod}/${container}`;
}

/**
 * What the sweeps remember of each container: `count`, its restart count at the last sweep, and
 * `baseline`, the count that sweep compared with (the one before). A sweep reports `restarting` when the
 * count rose since the last sweep (`count`); a watch event when it rose past `baseline`. So an incident a
 * sweep opened stays open through the events until the next sweep judges it, and a restart a watch sees
 * is one the next sweep will see too: the two never contradict each other.
 */
export interface RememberedRestarts {
  count: number;
  baseline: number;
}

/** Each container's remembered restart counts (containers never swept are left out). */
export async function readRestarts(
  memory: CheckMemory,
  cluster: string,
  pod: KubePod,
): Promise<Map<string, RememberedRestarts>> {
  const remembered = new Map<string, RememberedRestarts>();
  await Promise.all(
    pod.containerStatuses.map(async (c) => {
      const raw = await memory.get(restartsKey(cluster, pod.metadata.namespace, pod.metadata.name, c.name));
      const [count, baseline = count] = (raw ?? '').split(' ').map(Number);
      if (Number.isFinite(count) && Number.isFinite(baseline) && raw) {
        remembered.set(c.name, { count: count!, baseline: baseline! });
      }
    }),
  );
  return remembered;
}

/** Records this sweep's counts, each with the count it was compared with as the new baseline. */
async function rememberRestarts(
  memory: CheckMemory,
  cluster: string,
  pod: KubePod,
  previous: ReadonlyMap<string, RememberedRestarts>,
): Promise<void> {
  await Promise.all(
    pod.containerStatuses.map((c) =>
      memory.set(
        restartsKey(cluster, pod.metadata.namespace, pod.metadata.name, c.name),
        `${c.restartCount} ${previous.get(c.name)?.count ?? c.restartCount}`,
        RESTARTS_TTL_MS,
      ),
    ),
  );
}

/** The counts a judgement compares with: the last sweep's for a sweep, its baseline for a watch event. */
export function comparedWith(
  remembered: ReadonlyMap<string, RememberedRestarts>,
  by: 'sweep' | 'watch',
): Map<string, number> {
  return new Map([...remembered].map(([name, r]) => [name, by === 'sweep' ? r.count : r.baseline]));
}
