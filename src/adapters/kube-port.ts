import { setMaxListeners } from 'node:events';
import type { ReefConfig } from '../config/schema.js';
import { mapLimit } from '../util/concurrency.js';
import { KubeApiError, type KubeRequest, toKubeApiError } from './kube-errors.js';
import type { KubeEvent, KubeObject, KubePod, KubeReplicaSet, KubeSecret } from './kube-objects.js';
import { runResumableWatch, type WatchEvent, type WatchSource } from './kube-watch.js';
import type { KubePort, KubePortOptions } from './kubernetes.js';

/**
 * The raw calls of one cluster: thin wrappers over the client library (see kubernetes.ts), each taking
 * the signal that aborts it. Everything Reef adds on top (pagination, deadlines, error wording, resumable
 * watches) lives here, free of the vendor SDK.
 */
export interface ClusterApi {
  name: string;
  /** The API server URL, for messages. */
  server: string;
  listPodsPage(
    params: {
      namespace?: string;
      limit: number;
      continue?: string;
      labelSelector?: string;
      fieldSelector?: string;
    },
    signal: AbortSignal,
  ): Promise<{ items: KubePod[]; resourceVersion: string; continue: string | undefined }>;
  readReplicaSet(namespace: string, name: string, signal: AbortSignal): Promise<KubeObject>;
  /** One page of ReplicaSets (every namespace when absent), for rollout history. */
  listReplicaSetsPage(
    params: { namespace?: string; limit: number; continue?: string },
    signal: AbortSignal,
  ): Promise<{ items: KubeReplicaSet[]; continue: string | undefined }>;
  readPod(namespace: string, name: string, signal: AbortSignal): Promise<KubePod>;
  /** POST pods/{name}/eviction with a policy/v1 Eviction. */
  evictPod(
    namespace: string,
    name: string,
    gracePeriodSeconds: number | undefined,
    signal: AbortSignal,
  ): Promise<void>;
  deletePod(
    namespace: string,
    name: string,
    gracePeriodSeconds: number | undefined,
    signal: AbortSignal,
  ): Promise<void>;
  /** The Secret, and the library's own object (`handle`) to send back unchanged but for its data. */
  readSecret(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<{ secret: KubeSecret; handle: unknown }>;
  /** PUT `handle` (as read, resourceVersion included: a stale one gets 409) with `data` as its data. */
  replaceSecret(
    namespace: string,
    name: string,
    handle: unknown,
    data: Record<string, string>,
    signal: AbortSignal,
  ): Promise<KubeSecret>;
  readPodLog(
    params: {
      namespace: string;
      name: string;
      container?: string;
      sinceSeconds?: number;
      limitBytes?: number;
      tailLines?: number;
      previous?: boolean;
      timestamps?: boolean;
    },
    signal: AbortSignal,
  ): Promise<string>;
  /** Events of a namespace matching a field selector (`involvedObject.name=…`), one page. */
  listEvents(
    params: { namespace: string; fieldSelector?: string; limit: number },
    signal: AbortSignal,
  ): Promise<KubeEvent[]>;
  /** One pod watch stream; see WatchSource.stream. */
  streamPods(
    namespace: string | undefined,
    resourceVersion: string,
    handlers: { onOpen(): void; onEvent(event: WatchEvent<KubePod>): void },
    signal: AbortSignal,
  ): Promise<void>;
}

/** Builds the KubePort from a way to connect to a configured cluster (called once per cluster, lazily). */
export function kubePortOver(
  config: ReefConfig,
  options: KubePortOptions,
  connect: (name: string) => ClusterApi,
): KubePort {
  const pageSize = options.pageSize ?? 500;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const closed = new AbortController();
  // Every request and watch of the port listens on it; many at once are normal, not a leak.
  setMaxListeners(0, closed.signal);
  const clusters = new Map<string, ClusterApi>();

  // A cluster whose kubeconfig cannot be loaded is retried on the next call: the file may get fixed.
  const cluster = (name: string): ClusterApi => {
    const cached = clusters.get(name);
    if (cached) return cached;
    if (!config.clusters[name]) {
      const known = Object.keys(config.clusters);
      throw new KubeApiError('config', `unknown cluster "${name}"`, {
        hint: `Add it under clusters: (known: ${known.length ? known.join(', ') : 'none'}).`,
      });
    }
    const api = connect(name);
    clusters.set(name, api);
    return api;
  };

  /** One API call with a deadline; any failure becomes a KubeApiError naming the verb and resource. */
  const call = async <T>(
    api: ClusterApi,
    request: Omit<KubeRequest, 'cluster' | 'server'>,
    fn: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> => {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const abort = () => controller.abort();
    const signals = [closed.signal, ...(signal ? [signal] : [])];
    for (const s of signals) s.addEventListener('abort', abort, { once: true });
    try {
      return await fn(controller.signal);
    } catch (error) {
      throw toKubeApiError(error, { ...request, cluster: api.name, server: api.server }, timedOut);
    } finally {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', abort);
    }
  };

  const listPods: KubePort['listPods'] = async (name, list = {}) => {
    const api = cluster(name);
    const { namespace, signal, ...selectors } = list;
    const request = { verb: 'list', resource: 'pods', ...(namespace === undefined ? {} : { namespace }) };
    // An expired continue token (410) means the snapshot is gone: start the list over, once.
    for (let attempt = 0; ; attempt++) {
      try {
        const pods: KubePod[] = [];
        let resourceVersion: string | undefined;
        let token: string | undefined;
        do {
          const params = {
            ...selectors,
            ...(namespace === undefined ? {} : { namespace }),
            limit: pageSize,
            ...(token === undefined ? {} : { continue: token }),
          };
          const page = await call(api, request, (s) => api.listPodsPage(params, s), signal);
          for (const pod of page.items) pods.push(pod);
          // Every page of a paginated list is the same snapshot: the first page's version is the list's.
          resourceVersion ??= page.resourceVersion;
          token = page.continue;
        } while (token !== undefined);
        return { pods, resourceVersion: resourceVersion ?? '' };
      } catch (error) {
        if (attempt === 0 && error instanceof KubeApiError && error.failure === 'gone') continue;
        throw error;
      }
    }
  };

  const podSource = (name: string, namespace: string | undefined): WatchSource<KubePod> => ({
    list: async (signal) => {
      const { pods, resourceVersion } = await listPods(name, {
        signal,
        ...(namespace === undefined ? {} : { namespace }),
      });
      return { items: pods, resourceVersion };
    },
    stream: (resourceVersion, handlers, signal) =>
      cluster(name).streamPods(namespace, resourceVersion, handlers, signal),
  });

  return {
    listPods,

    async getReplicaSet(name, namespace, rsName) {
      const api = cluster(name);
      const request = { verb: 'get', resource: 'replicasets', group: 'apps', namespace, name: rsName };
      try {
        return await call(api, request, (s) => api.readReplicaSet(namespace, rsName, s));
      } catch (error) {
        if (error instanceof KubeApiError && error.failure === 'not-found') return undefined;
        throw error;
      }
    },

    async listReplicaSets(name, namespace) {
      const api = cluster(name);
      const request = {
        verb: 'list',
        resource: 'replicasets',
        group: 'apps',
        ...(namespace === undefined ? {} : { namespace }),
      };
      const items: KubeReplicaSet[] = [];
      let token: string | undefined;
      do {
        const params = {
          ...(namespace === undefined ? {} : { namespace }),
          limit: pageSize,
          ...(token === undefined ? {} : { continue: token }),
        };
        const page = await call(api, request, (s) => api.listReplicaSetsPage(params, s));
        for (const rs of page.items) items.push(rs);
        token = page.continue;
      } while (token !== undefined);
      return items;
    },

    async getPod(name, namespace, podName) {
      const api = cluster(name);
      const request = { verb: 'get', resource: 'pods', namespace, name: podName };
      try {
        return await call(api, request, (s) => api.readPod(namespace, podName, s));
      } catch (error) {
        if (error instanceof KubeApiError && error.failure === 'not-found') return undefined;
        throw error;
      }
    },

    async evictPod(name, namespace, podName, evict = {}) {
      const api = cluster(name);
      const request = { verb: 'create', resource: 'pods/eviction', namespace, name: podName };
      await call(api, request, (s) => api.evictPod(namespace, podName, evict.gracePeriodSeconds, s));
    },

    async deletePod(name, namespace, podName, remove = {}) {
      const api = cluster(name);
      const request = { verb: 'delete', resource: 'pods', namespace, name: podName };
      await call(api, request, (s) => api.deletePod(namespace, podName, remove.gracePeriodSeconds, s));
    },

    async updateSecretData(name, namespace, secretName, update) {
      const api = cluster(name);
      const request = { namespace, resource: 'secrets', name: secretName };
      const read = await call(api, { ...request, verb: 'get' }, (s) =>
        api.readSecret(namespace, secretName, s),
      );
      const data = update(read.secret);
      if (data === undefined) return read.secret;
      return call(api, { ...request, verb: 'update' }, (s) =>
        api.replaceSecret(namespace, secretName, read.handle, data, s),
      );
    },

    async podLogs(name, namespace, selector, logOptions) {
      const api = cluster(name);
      const { pods } = await listPods(name, { namespace, labelSelector: selector });
      return mapLimit(pods, 8, async (pod) => {
        const podName = pod.metadata.name;
        // Without a container name the API refuses multi-container pods: read each and join them.
        const containers = logOptions.container
          ? [logOptions.container]
          : pod.containerStatuses.filter((s) => !s.init).map((s) => s.name);
        const parts: string[] = [];
        for (const container of containers.length > 0 ? containers : [undefined]) {
          const params = {
            namespace,
            name: podName,
            sinceSeconds: logOptions.sinceSeconds,
            ...(container === undefined ? {} : { container }),
            ...(logOptions.limitBytes === undefined ? {} : { limitBytes: logOptions.limitBytes }),
            ...(logOptions.timestamps ? { timestamps: true } : {}),
          };
          const request = { verb: 'get', resource: 'pods/log', namespace, name: podName };
          try {
            parts.push(await call(api, request, (s) => api.readPodLog(params, s)));
          } catch (error) {
            // 400: the container has not started (or never was); it has no log to read yet.
            if (error instanceof KubeApiError && error.status === 400) continue;
            throw error;
          }
        }
        const text = parts.map((p) => (p === '' || p.endsWith('\n') ? p : `${p}\n`)).join('');
        return { pod: podName, text };
      });
    },

    async podEvents(name, namespace, podName, limit = 20) {
      const api = cluster(name);
      const request = { verb: 'list', resource: 'events', namespace };
      const params = { namespace, fieldSelector: `involvedObject.name=${podName}`, limit: 500 };
      const events = await call(api, request, (s) => api.listEvents(params, s));
      return events
        .sort((a, b) => (a.lastSeen < b.lastSeen ? -1 : a.lastSeen > b.lastSeen ? 1 : 0))
        .slice(-limit);
    },

    async podLog(name, namespace, podName, logOptions = {}) {
      const api = cluster(name);
      const request = { verb: 'get', resource: 'pods/log', namespace, name: podName };
      const params = {
        namespace,
        name: podName,
        tailLines: logOptions.tailLines ?? 50,
        limitBytes: logOptions.limitBytes ?? 64 * 1024,
        ...(logOptions.container ? { container: logOptions.container } : {}),
        ...(logOptions.previous ? { previous: true } : {}),
      };
      try {
        return await call(api, request, (s) => api.readPodLog(params, s));
      } catch (error) {
        // 400: no such (previous) container instance yet; 404: the pod is gone. Nothing to read.
        if (error instanceof KubeApiError && (error.status === 400 || error.failure === 'not-found'))
          return '';
        throw error;
      }
    },

    async watchPods(name, watch) {
      await runResumableWatch(podSource(name, watch.namespace), watch, {
        signal: AbortSignal.any([watch.signal, closed.signal]),
        ...(watch.backoff ? { backoff: watch.backoff } : {}),
      });
    },

    async close() {
      closed.abort();
    },
  };
}
