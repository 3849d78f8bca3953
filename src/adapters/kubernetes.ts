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
  Watch,
} from '@kubernetes/client-node';
import type { PodLogsPort } from '../checks/check.js';
import type { ClusterConfig, ReefConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import { KubeApiError, type KubeRequest, parseStatus, toKubeApiError } from './kube-errors.js';
import { type KubeObject, type KubePod, toKubeObject, toKubePod } from './kube-objects.js';
import { kubePortOver } from './kube-port.js';
import type { WatchEvent, WatchHandlers } from './kube-watch.js';

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
 * KubeApiErrors saying what the credentials lack or why the API cannot be reached. Later operations
 * (delete or evict a pod, Secrets, events) follow the same shape: one method per verb and resource,
 * described by a KubeRequest for errors.
 */
export interface KubePort extends PodLogsPort {
  /** Every pod, fetched page by page (`limit` + `continue`), and the snapshot's resourceVersion. */
  listPods(cluster: string, options?: ListPodsOptions): Promise<{ pods: KubePod[]; resourceVersion: string }>;
  /** A ReplicaSet (its owners say which Deployment runs a pod); undefined when it no longer exists. */
  getReplicaSet(cluster: string, namespace: string, name: string): Promise<KubeObject | undefined>;
  /**
   * Watches pods until `options.signal` aborts: lists first (`onSync`), then streams events from that
   * resourceVersion (BOOKMARKs included), resumes a dropped stream where it left off, lists again after
   * 410 Gone, and backs off while the API is unreachable. Never rejects; trouble goes to `onStatus`.
   */
  watchPods(cluster: string, options: WatchPodsOptions): Promise<void>;
  /** Stops every watch and in-flight request of this port. */
  close(): Promise<void>;
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
      readPodLog: (params, signal) => c.core.readNamespacedPodLog(params, withSignal(signal)),
      streamPods: (namespace, resourceVersion, handlers, signal) =>
        streamPods(c, namespace, resourceVersion, handlers, signal, options.watchTimeoutSeconds),
    };
  });
}

/** One watch stream of pods; see WatchSource.stream. */
function streamPods(
  c: ClusterClient,
  namespace: string | undefined,
  resourceVersion: string,
  handlers: { onOpen(): void; onEvent(event: WatchEvent<KubePod>): void },
  signal: AbortSignal,
  timeoutSeconds = 300,
): Promise<void> {
  const request: KubeRequest = {
    cluster: c.name,
    server: c.server,
    verb: 'watch',
    resource: 'pods',
    ...(namespace === undefined ? {} : { namespace }),
  };
  const urlPath =
    namespace === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let controller: AbortController | undefined;
    // The server ends a watch after timeoutSeconds; silence well past that means a dead connection.
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () =>
          finish(new KubeApiError('timeout', `the pod watch of cluster ${c.name} went silent`, { request })),
        (timeoutSeconds + 30) * 1000,
      );
    };
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      signal.removeEventListener('abort', onAbort);
      controller?.abort();
      if (error === undefined) resolve();
      else reject(toKubeApiError(error, request));
    };
    const onAbort = () => finish();
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    arm();
    new Watch(c.kc)
      .watch(
        urlPath,
        { resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        (type: string, object: unknown) => {
          if (settled) return;
          arm();
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
            const pod = toKubePod(object);
            handlers.onEvent({ type, object: pod, resourceVersion: pod.metadata.resourceVersion });
          } else if (type === 'BOOKMARK') {
            const version = toKubeObject(object, 'Pod').metadata.resourceVersion;
            handlers.onEvent({ type, resourceVersion: version });
          } else if (type === 'ERROR') {
            // A Status object; 410 Expired is the usual one (history compacted past our version).
            finish({ code: parseStatus(object).code ?? 500, body: object });
          }
        },
        (error: unknown) => finish(error ?? undefined),
      )
      .then(
        (ctl) => {
          controller = ctl;
          if (settled) ctl.abort();
          else handlers.onOpen();
        },
        (error: unknown) => finish(error),
      );
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
