import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import {
  AppsV1Api,
  type ConfigurationOptions,
  CoreV1Api,
  KubeConfig,
  Observable,
  type RequestContext,
  type ResponseContext,
  type V1Secret,
} from '@kubernetes/client-node';
import type { PodLogsPort } from '../checks/check.js';
import type { ClusterConfig, ReefConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import { KubeApiError } from './kube-errors.js';
import {
  type KubeEvent,
  type KubeObject,
  type KubePod,
  type KubeReplicaSet,
  type KubeSecret,
  toKubeEvent,
  toKubeObject,
  toKubePod,
  toKubeReplicaSet,
  toKubeSecret,
} from './kube-objects.js';
import { streamPods } from './kube-pod-stream.js';
import { kubePortOver } from './kube-port.js';
import type { WatchHandlers } from './kube-watch.js';

export interface ListPodsOptions {
  /** Absent: every namespace (needs a ClusterRole). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  signal?: AbortSignal;
}

export interface WatchPodsOptions extends WatchHandlers<KubePod> {
  /** Absent: every namespace. */
  namespace?: string;
  /** Stops the watch; `watchPods` settles once in-flight handlers finish. */
  signal: AbortSignal;
  backoff?: { initialMs: number; maxMs: number };
}

/**
 * Kubernetes clusters by name (`clusters:` in reef.yaml). Every call names its cluster; failures are
 * KubeApiErrors saying what the credentials lack or why the API cannot be reached. One method per verb
 * and resource, described by a KubeRequest for errors; later operations follow the same shape.
 */
export interface KubePort extends PodLogsPort {
  /** Every pod, fetched page by page (`limit` + `continue`), and the snapshot's resourceVersion. */
  listPods(cluster: string, options?: ListPodsOptions): Promise<{ pods: KubePod[]; resourceVersion: string }>;
  /** A ReplicaSet (its owners say which Deployment runs a pod); undefined when it no longer exists. */
  getReplicaSet(cluster: string, namespace: string, name: string): Promise<KubeObject | undefined>;
  /** Every ReplicaSet in a namespace (or all), page by page: the rollouts of each Deployment. */
  listReplicaSets(cluster: string, namespace?: string): Promise<KubeReplicaSet[]>;
  /** A pod; undefined when it does not exist. */
  getPod(cluster: string, namespace: string, name: string): Promise<KubePod | undefined>;
  /**
   * Evicts a pod through the Eviction API (policy/v1), so PodDisruptionBudgets hold: when one allows no
   * disruption right now the API answers 429 (a KubeApiError with failure `too-many-requests`).
   */
  evictPod(cluster: string, namespace: string, name: string, options?: PodDeletion): Promise<void>;
  /** Deletes a pod outright (PodDisruptionBudgets do not apply). */
  deletePod(cluster: string, namespace: string, name: string, options?: PodDeletion): Promise<void>;
  /**
   * Replaces an existing Secret's data: GET, `update` computes the new data (base64 values) from what it
   * read (and may throw to refuse; undefined: nothing to change, no PUT), PUT back with the resourceVersion
   * read, so a change in between fails with 409 (failure `conflict`) instead of being overwritten. Never
   * creates: a missing Secret is `not-found`. Everything else about the Secret (type, labels, annotations,
   * owners) is sent back as read. Returns the Secret as it now is.
   */
  updateSecretData(
    cluster: string,
    namespace: string,
    name: string,
    update: (current: KubeSecret) => Record<string, string> | undefined,
  ): Promise<KubeSecret>;
  /** The latest events about a pod (oldest first), for the diagnosis' context. */
  podEvents(cluster: string, namespace: string, pod: string, limit?: number): Promise<KubeEvent[]>;
  /**
   * The last lines of one pod's log (`previous`: of the container instance that last crashed, what a
   * crash loop's diagnosis needs); empty when there is none to read.
   */
  podLog(
    cluster: string,
    namespace: string,
    pod: string,
    options?: { container?: string; previous?: boolean; tailLines?: number; limitBytes?: number },
  ): Promise<string>;
  /**
   * Watches pods until `options.signal` aborts: lists first (`onSync`), then streams events from that
   * resourceVersion (BOOKMARKs included), resumes a dropped stream where it left off, lists again after
   * 410 Gone, and backs off while the API is unreachable. Never rejects; trouble goes to `onStatus`.
   */
  watchPods(cluster: string, options: WatchPodsOptions): Promise<void>;
  /** Stops every watch and in-flight request of this port. */
  close(): Promise<void>;
}

export interface PodDeletion {
  /** Seconds the pod gets to shut down (default: the pod's own terminationGracePeriodSeconds). */
  gracePeriodSeconds?: number;
}

export interface KubePortOptions {
  /** Items per list page (the API's `limit`); kubectl uses 500 too. */
  pageSize?: number;
  /** Deadline for one API request (not for watch streams). */
  requestTimeoutMs?: number;
  /** Server-side watch timeout; a stream silent past it (plus a margin) is presumed dead and reopened. */
  watchTimeoutSeconds?: number;
  env?: NodeJS.ProcessEnv;
}

interface ClusterClient {
  name: string;
  server: string;
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
}

export function createKubePort(config: ReefConfig, options: KubePortOptions = {}): KubePort {
  const env = options.env ?? process.env;
  return kubePortOver(config, options, (name) => {
    const c = loadCluster(name, config.clusters[name]!, env);
    return {
      name,
      server: c.server,
      async listPodsPage({ namespace, continue: token, ...params }, signal) {
        const query = { ...params, ...(token === undefined ? {} : { _continue: token }) };
        const page =
          namespace === undefined
            ? await c.core.listPodForAllNamespaces(query, withSignal(signal))
            : await c.core.listNamespacedPod({ ...query, namespace }, withSignal(signal));
        return {
          items: page.items.map(toKubePod),
          resourceVersion: page.metadata?.resourceVersion ?? '',
          continue: page.metadata?._continue || undefined,
        };
      },
      async readReplicaSet(namespace, name, signal) {
        return toKubeObject(
          await c.apps.readNamespacedReplicaSet({ name, namespace }, withSignal(signal)),
          'ReplicaSet',
        );
      },
      async listReplicaSetsPage({ namespace, limit, continue: token }, signal) {
        const query = { limit, ...(token === undefined ? {} : { _continue: token }) };
        const page =
          namespace === undefined
            ? await c.apps.listReplicaSetForAllNamespaces(query, withSignal(signal))
            : await c.apps.listNamespacedReplicaSet({ ...query, namespace }, withSignal(signal));
        return {
          items: page.items.map(toKubeReplicaSet),
          continue: page.metadata?._continue || undefined,
        };
      },
      readPod: async (namespace, name, signal) =>
        toKubePod(await c.core.readNamespacedPod({ name, namespace }, withSignal(signal))),
      async evictPod(namespace, name, gracePeriodSeconds, signal) {
        const deleteOptions =
          gracePeriodSeconds === undefined ? {} : { deleteOptions: { gracePeriodSeconds } };
        const body = {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name, namespace },
          ...deleteOptions,
        };
        await c.core.createNamespacedPodEviction({ name, namespace, body }, withSignal(signal));
      },
      async deletePod(namespace, name, gracePeriodSeconds, signal) {
        const grace = gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds };
        await c.core.deleteNamespacedPod({ name, namespace, ...grace }, withSignal(signal));
      },
      async readSecret(namespace, name, signal) {
        const handle = await c.core.readNamespacedSecret({ name, namespace }, withSignal(signal));
        return { secret: toKubeSecret(handle), handle };
      },
      async replaceSecret(namespace, name, handle, data, signal) {
        const body: V1Secret = { ...(handle as V1Secret), data };
        return toKubeSecret(
          await c.core.replaceNamespacedSecret({ name, namespace, body }, withSignal(signal)),
        );
      },
      readPodLog: (params, signal) => c.core.readNamespacedPodLog(params, withSignal(signal)),
      async listEvents({ namespace, fieldSelector, limit }, signal) {
        const page = await c.core.listNamespacedEvent(
          { namespace, limit, ...(fieldSelector ? { fieldSelector } : {}) },
          withSignal(signal),
        );
        return page.items.map(toKubeEvent);
      },
      streamPods: (namespace, resourceVersion, handlers, signal) =>
        streamPods(c, namespace, resourceVersion, handlers, signal, options.watchTimeoutSeconds),
    };
  });
}

/** Loads a cluster's credentials: the in-cluster service account, or a kubeconfig file and context. */
function loadCluster(name: string, cluster: ClusterConfig, env: NodeJS.ProcessEnv): ClusterClient {
  const kc = new KubeConfig();
  const where = `clusters.${name}`;
  if (cluster.inCluster) {
    if (!env.KUBERNETES_SERVICE_HOST) {
      throw new KubeApiError(
        'config',
        `${where}.inCluster is true but Reef is not running in a pod (KUBERNETES_SERVICE_HOST is not set)`,
        { hint: 'Give a kubeconfig and context instead, or run Reef in the cluster with a service account.' },
      );
    }
    kc.loadFromCluster();
  } else {
    const file = expandHome(cluster.kubeconfig ?? '~/.kube/config', env);
    if (!existsSync(file)) {
      throw new KubeApiError('config', `kubeconfig not found: ${file} (${where}.kubeconfig)`, {
        hint: 'Point kubeconfig at an existing file, or set inCluster: true inside a pod.',
      });
    }
    try {
      kc.loadFromFile(file);
    } catch (error) {
      throw new KubeApiError('config', `cannot read kubeconfig ${file}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    if (cluster.context !== undefined) {
      if (!kc.getContextObject(cluster.context)) {
        const known = kc.getContexts().map((x) => x.name);
        throw new KubeApiError(
          'config',
          `context "${cluster.context}" is not in ${file} (${where}.context; contexts there: ${known.join(', ') || 'none'})`,
        );
      }
      kc.setCurrentContext(cluster.context);
    }
  }
  const server = kc.getCurrentCluster()?.server;
  if (!server) {
    throw new KubeApiError(
      'config',
      `${where}: the kubeconfig names no cluster server for its current context`,
    );
  }
  return { name, server, kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

function expandHome(file: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME || homedir();
  if (file === '~') return home;
  if (file.startsWith('~/')) return path.join(home, file.slice(2));
  return path.resolve(file);
}

/** Per-call options that abort the request with `signal` (the library's middleware is observable-style). */
function withSignal(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(signal);
          return new Observable(Promise.resolve(context));
        },
        post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
