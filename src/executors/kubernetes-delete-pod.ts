import { z } from 'zod';
import { KubeApiError } from '../adapters/kube-errors.js';
import type { KubePod } from '../adapters/kube-objects.js';
import type { StepExecutor } from './executor.js';
import { configName, kubeName, kubeNamespace } from './validate.js';

const schema = z.strictObject({
  cluster: configName,
  namespace: kubeNamespace,
  pod: kubeName,
  /** `evict` (default) goes through the Eviction API so PodDisruptionBudgets hold; `delete` does not. */
  mode: z.enum(['evict', 'delete']).default('evict'),
  gracePeriodSeconds: z.number().int().min(0).max(3600).optional(),
});

export type DeletePodParams = z.output<typeof schema>;

/**
 * `kubernetes.deletePod`: restarts a pod by having it removed (its controller makes a new one). Through
 * the Eviction API by default, so a PodDisruptionBudget that allows no disruption refuses (HTTP 429):
 * the step then fails once with that reason — no retry loop hammering the budget. A pod owned by a
 * StatefulSet or mounting a PersistentVolumeClaim is refused unless the runbook says `stateful: true`.
 */
export const kubernetesDeletePodExecutor: StepExecutor<DeletePodParams> = {
  type: 'kubernetes.deletePod',
  mutates: true,
  schema,
  describe(params) {
    const path = `/api/v1/namespaces/${params.namespace}/pods/${params.pod}`;
    const grace =
      params.gracePeriodSeconds === undefined ? '' : `gracePeriodSeconds=${params.gracePeriodSeconds}`;
    return params.mode === 'evict'
      ? `POST ${path}/eviction (policy/v1 Eviction${grace ? `, ${grace}` : ''}) on cluster ${params.cluster}`
      : `DELETE ${path}${grace ? ` (${grace})` : ''} on cluster ${params.cluster}`;
  },
  async execute(params, context) {
    const { cluster, namespace, pod: name } = params;
    const target = `${namespace}/${name}`;
    const pod = await context.kube.getPod(cluster, namespace, name);
    if (!pod) {
      return {
        ok: true,
        summary: `pod ${target} is already gone on cluster ${cluster}: nothing to do`,
        data: { alreadyGone: true },
      };
    }
    const stateful = statefulReasons(pod);
    if (stateful.length > 0 && !context.runbook.stateful) {
      return {
        ok: false,
        summary: `refused: pod ${target} is stateful (${stateful.join('; ')}); runbook ${context.runbook.id} does not say stateful: true`,
        data: { refused: 'stateful', reasons: stateful },
      };
    }
    const grace =
      params.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: params.gracePeriodSeconds };
    if (params.mode === 'delete') {
      await context.kube.deletePod(cluster, namespace, name, grace);
      return { ok: true, summary: `deleted pod ${target} on cluster ${cluster}`, data: { mode: 'delete' } };
    }
    try {
      await context.kube.evictPod(cluster, namespace, name, grace);
    } catch (error) {
      if (error instanceof KubeApiError && error.failure === 'too-many-requests') {
        return {
          ok: false,
          summary: `eviction of pod ${target} refused by its PodDisruptionBudget: ${error.details.join('; ') || error.message}. Not retried: the budget allows no disruption now`,
          output: error.message,
          data: { refused: 'disruption-budget' },
        };
      }
      if (error instanceof KubeApiError && error.failure === 'not-found') {
        return {
          ok: true,
          summary: `pod ${target} went away before the eviction`,
          data: { alreadyGone: true },
        };
      }
      throw error;
    }
    return {
      ok: true,
      summary: `evicted pod ${target} on cluster ${cluster} (PodDisruptionBudgets respected)`,
      data: { mode: 'evict' },
    };
  },
};

/** Why deleting this pod could lose data or identity: its StatefulSet owner, its volume claims. */
function statefulReasons(pod: KubePod): string[] {
  const reasons: string[] = [];
  const owner = pod.metadata.ownerReferences.find((o) => o.kind === 'StatefulSet');
  if (owner) reasons.push(`owned by StatefulSet ${owner.name}`);
  if (pod.persistentVolumeClaims.length > 0) {
    reasons.push(`mounts PersistentVolumeClaim ${pod.persistentVolumeClaims.join(', ')}`);
  }
  return reasons;
}
