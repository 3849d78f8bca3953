import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisCheckMemory } from '../adapters/check-memory.js';
import type { Clock } from '../adapters/clock.js';
import { lazyKubePort } from '../adapters/kube-lazy.js';
import type { KubePod } from '../adapters/kube-objects.js';
import type { WatchEvent, WatchState } from '../adapters/kube-watch.js';
import type { KubePort } from '../adapters/kubernetes.js';
import { assessPod, comparedWith, OwnerResolver, readRestarts } from '../checks/pods.js';
import type { ProbeOutcome } from '../checks/sweep.js';
import type { ReefConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { IncidentEvent } from '../events/incident-event.js';
import { startDeciding } from '../execution/start.js';
import type { IncidentStore } from '../incidents/store.js';
import type { IncidentTracker } from '../incidents/tracker.js';
import { mapLimit } from '../util/concurrency.js';
import { parseDuration } from '../util/duration.js';
import type { Role } from './roles.js';
import type { Runtime } from './runtime.js';
import { WatchRecorder } from './watch-record.js';

export interface PodWatchDeps {
  config: ReefConfig;
  clock: Clock;
  tracker: IncidentTracker;
  store: IncidentStore;
  bus: EventBus;
  redis: Redis;
  prefix: string;
  /** Default: a port of its own, closed on stop. */
  kube?: KubePort;
  log?: Pick<Logger, 'info' | 'warn'>;
  backoff?: { initialMs: number; maxMs: number };
  /** Decides what to do about the incidents an event opened (see execution/decide.ts). */
  afterIngest?: (events: readonly IncidentEvent[]) => Promise<void>;
}

export interface PodWatches {
  /** Clusters being watched. */
  clusters: string[];
  /** Ends every stream, lets in-flight events finish, and removes the watch records. */
  stop(): Promise<void>;
}

/**
 * Watches the pods of every `checks.pods` target with `watch: true` (one stream per namespace, or one for
 * all), so a crash loop becomes an incident within seconds instead of at the next sweep. Each event is
 * judged exactly as the sweep judges a pod and ingested as an outcome that covers that pod only; a
 * deleted pod is covered with no findings, which resolves its incidents as gone. After a (re-)list, the
 * listed pods and the pods with incidents in that namespace are covered, so pods deleted while the stream
 * was down resolve too. Only sweeps write restart counts; events read them (see RememberedRestarts), so a
 * watch and a sweep agree on `restarting`.
 */
export function startPodWatches(deps: PodWatchDeps): PodWatches {
  const kube = deps.kube ?? lazyKubePort(deps.config);
  const controller = new AbortController();
  const memory = new RedisCheckMemory(deps.redis, deps.prefix);
  const recorder = new WatchRecorder(deps.redis, deps.prefix, deps.clock);
  const running: Promise<void>[] = [];
  const clusters: string[] = [];

  for (const target of deps.config.checks.pods) {
    if (!target.watch) continue;
    const cluster = target.cluster;
    clusters.push(cluster);
    const namespaces = target.namespaces ?? deps.config.clusters[cluster]?.namespaces;
    const streams = namespaces ?? [undefined];
    const pendingAfterMs = parseDuration(target.pendingAfter) ?? 600_000;
    const owners = new OwnerResolver(kube, cluster);
    const record = recorder.cluster(cluster, namespaces ?? null, streams.length);

    const ingest = async (outcome: ProbeOutcome) => {
      const events = await deps.tracker.ingest({ outcomes: [outcome], only: cluster }, deps.config);
      await deps.bus.publish(events);
      await deps.afterIngest?.(events);
    };
    const judge = async (pod: KubePod) => {
      const previousRestarts = comparedWith(await readRestarts(memory, cluster, pod), 'watch');
      const now = deps.clock.now();
      return assessPod(pod, { cluster, now, pendingAfterMs, previousRestarts }, owners);
    };

    streams.forEach((namespace, stream) => {
      const onEvent = async (event: WatchEvent<KubePod>) => {
        record.event(event.resourceVersion);
        if (event.type === 'BOOKMARK') return;
        const pod = event.object;
        const covers = [`${pod.metadata.namespace}/${pod.metadata.name}`];
        if (event.type === 'DELETED') {
          await ingest({ status: 'ok', check: 'pods', target: cluster, findings: [], covers });
          return;
        }
        const findings = await judge(pod);
        const status = findings.every((f) => f.severity === 'ok') ? 'ok' : 'anomaly';
        await ingest({ status, check: 'pods', target: cluster, findings, covers });
      };
      const onSync = async (pods: KubePod[], resourceVersion: string) => {
        record.event(resourceVersion);
        const findings = (await mapLimit(pods, 16, judge)).flat();
        const inScope = (target: string) => namespace === undefined || target.startsWith(`${namespace}/`);
        const known = (await deps.store.current())
          .filter((i) => i.check === 'pods' && (i.probe ?? i.target) === cluster && inScope(i.target))
          .map((i) => i.target);
        const covers = [
          ...new Set([...pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`), ...known]),
        ];
        const status = findings.every((f) => f.severity === 'ok') ? 'ok' : 'anomaly';
        await ingest({ status, check: 'pods', target: cluster, findings, covers });
      };
      const onStatus = (status: { state: WatchState; error?: string; retryInMs?: number }) => {
        record.state(stream, status.state, status.error);
        const fields = {
          cluster,
          namespace: namespace ?? '*',
          state: status.state,
          retryInMs: status.retryInMs,
        };
        if (status.error) deps.log?.warn({ ...fields, err: status.error }, 'pod watch interrupted');
        else deps.log?.info(fields, `pod watch ${status.state}`);
      };
      running.push(
        kube.watchPods(cluster, {
          ...(namespace === undefined ? {} : { namespace }),
          signal: controller.signal,
          ...(deps.backoff ? { backoff: deps.backoff } : {}),
          onEvent,
          onSync,
          onStatus,
          onHandlerError: (error) =>
            deps.log?.warn({ cluster, err: errorMessage(error) }, 'pod watch event not ingested'),
        }),
      );
    });
  }

  return {
    clusters,
    async stop() {
      controller.abort();
      await Promise.allSettled(running);
      if (!deps.kube) await kube.close();
      await recorder.close();
    },
  };
}

/** The scheduler role's watches, as a Role `reef start` and `reef scheduler` stop on SIGTERM. */
export function startWatches(rt: Runtime, log: Logger): Role {
  const deciding = startDeciding(rt, log);
  const watches = startPodWatches({
    afterIngest: deciding.afterIngest,
    config: rt.config,
    clock: rt.clock,
    tracker: rt.tracker,
    store: rt.store,
    bus: rt.bus,
    redis: rt.connection,
    prefix: rt.prefix,
    log,
  });
  if (watches.clusters.length > 0) log.info({ clusters: watches.clusters }, 'pod watches started');
  return {
    name: 'watches',
    async stop() {
      await watches.stop();
      await deciding.close();
    },
  };
}
