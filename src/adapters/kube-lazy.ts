import type { ReefConfig } from '../config/schema.js';
import type { KubePort, KubePortOptions } from './kubernetes.js';

/**
 * A KubePort that loads `@kubernetes/client-node` (over a second of start-up on a small machine) only
 * when a Kubernetes call is first made, so `reef --help`, `reef status` and clusterless sweeps never pay
 * for it. Every KubePort method is asynchronous, so the delay is invisible to callers.
 */
export function lazyKubePort(config: ReefConfig, options: KubePortOptions = {}): KubePort {
  let port: Promise<KubePort> | undefined;
  const load = () => {
    port ??= import('./kubernetes.js').then((m) => m.createKubePort(config, options));
    return port;
  };
  return {
    listPods: async (...args) => (await load()).listPods(...args),
    getReplicaSet: async (...args) => (await load()).getReplicaSet(...args),
    listReplicaSets: async (...args) => (await load()).listReplicaSets(...args),
    getPod: async (...args) => (await load()).getPod(...args),
    evictPod: async (...args) => (await load()).evictPod(...args),
    deletePod: async (...args) => (await load()).deletePod(...args),
    updateSecretData: async (...args) => (await load()).updateSecretData(...args),
    watchPods: async (...args) => (await load()).watchPods(...args),
    podLogs: async (...args) => (await load()).podLogs(...args),
    podEvents: async (...args) => (await load()).podEvents(...args),
    podLog: async (...args) => (await load()).podLog(...args),
    async close() {
      if (port) await (await port).close();
    },
  };
}
