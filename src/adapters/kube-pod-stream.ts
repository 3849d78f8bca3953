import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { KubeApiError, type KubeRequest, parseStatus, toKubeApiError } from './kube-errors.js';
import { type KubePod, toKubeObject, toKubePod } from './kube-objects.js';
import type { WatchEvent } from './kube-watch.js';

/**
 * One watch stream of pods (the library's Watch, raw JSON events), turned into Reef's events; see
 * WatchSource.stream. A stream silent past the server's timeout is presumed dead and ends in an error.
 */
export function streamPods(
  c: { name: string; server: string; kc: KubeConfig },
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
