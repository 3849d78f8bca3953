import type { KubePort } from '../adapters/kubernetes.js';
import type { Incident } from '../incidents/incident.js';
import type { ContextSource } from './context.js';

/** Conditions whose useful log is the crashed instance's, not the one waiting to start. */
const CRASHED = new Set(['CrashLoopBackOff', 'OOMKilled', 'restarting']);
const EVENTS = 15;
const LOG_LINES = 40;

/**
 * Evidence from the cluster for a pod's incident (DESIGN.md §5): the pod's recent Kubernetes events and
 * the last lines of its log (of the instance that crashed, for a crash loop). Reads only what Reef's
 * RBAC already allows (events, pods/log). Every line is untrusted data: the prompt delimits it and the
 * diagnosis redacts it before it leaves the process.
 */
export function kubeContextSource(kube: Pick<KubePort, 'podEvents' | 'podLog'>): ContextSource {
  return {
    async events(incident) {
      const pod = podOf(incident);
      if (!pod) return [];
      const events = await kube.podEvents(pod.cluster, pod.namespace, pod.name, EVENTS);
      return events.map(
        (e) =>
          `${e.lastSeen || '(no time)'} ${e.type} ${e.reason}${e.count > 1 ? ` (×${e.count})` : ''}: ${e.message}`,
      );
    },
    async logs(incident) {
      const pod = podOf(incident);
      if (!pod) return [];
      const text = await kube.podLog(pod.cluster, pod.namespace, pod.name, {
        ...(pod.container ? { container: pod.container } : {}),
        previous: CRASHED.has(incident.condition),
        tailLines: LOG_LINES,
      });
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .slice(-LOG_LINES);
    },
  };
}

function podOf(
  incident: Incident,
): { cluster: string; namespace: string; name: string; container?: string } | undefined {
  if (incident.check !== 'pods') return undefined;
  const { cluster, namespace, pod, container } = incident.facts;
  if (typeof cluster !== 'string' || typeof namespace !== 'string' || typeof pod !== 'string')
    return undefined;
  return { cluster, namespace, name: pod, ...(typeof container === 'string' ? { container } : {}) };
}
