import type { Logger } from 'pino';
import { lazyKubePort } from '../adapters/kube-lazy.js';
import { AuditLog } from '../audit/audit-log.js';
import { rediagnoseWorsened, runtimeDiagnoseStep } from '../diagnosis/step.js';
import type { IncidentEvent } from '../events/incident-event.js';
import { LiveCatalog } from '../runbooks/live-catalog.js';
import { runbooksDirOf } from '../runbooks/location.js';
import type { Runtime } from '../runtime/runtime.js';
import { parseDuration } from '../util/duration.js';
import { DEFAULT_EXPIRE_AFTER_MS, type DecideDeps, decideOpened } from './decide.js';
import type { ExecutionDeps } from './deps.js';
import { executionsQueue } from './queue.js';
import { startExecutionWorker } from './worker.js';

/** The runbooks a process acts on, reloaded when the folder changes (see LiveCatalog). */
function liveCatalogOf(rt: Runtime, log: Pick<Logger, 'warn' | 'info'>): LiveCatalog {
  return new LiveCatalog(runbooksDirOf(rt.loaded, process.env), (level, message, fields) =>
    log[level](fields ?? {}, message),
  );
}

/**
 * Decisions for the incidents a sweep or a watch opens, with the queue they enqueue runs on. Built on
 * first use: a scheduler that never sees an incident opens no queue and reads no runbooks, so its
 * start-up (and a SIGTERM right after it) stays as quick as before.
 */
export function startDeciding(rt: Runtime, log: Pick<Logger, 'warn' | 'info'>) {
  let built: DecideDeps | undefined;
  // The clusters' API for the diagnosis' evidence (events, last log lines), opened on first use.
  let kube: ReturnType<typeof lazyKubePort> | undefined;
  const evidence = () => {
    if (Object.keys(rt.config.clusters).length === 0) return undefined;
    kube ??= lazyKubePort(rt.config);
    return kube;
  };
  const deps = (): DecideDeps => {
    if (built) return built;
    const runbooks = liveCatalogOf(rt, log);
    built = {
      get catalog() {
        return runbooks.current();
      },
      store: rt.store,
      bus: rt.bus,
      audit: new AuditLog(rt.connection, rt.prefix, { dataDir: rt.env.dataDir, clock: rt.clock }),
      clock: rt.clock,
      queue: executionsQueue(rt.redis.bullConnection(), rt.prefix),
      expireAfterMs: parseDuration(rt.config.approvals.expireAfter) ?? DEFAULT_EXPIRE_AFTER_MS,
      diagnose: runtimeDiagnoseStep(rt, log, process.env, evidence()),
    };
    return built;
  };
  return {
    deps,
    afterIngest: async (events: readonly IncidentEvent[]) => {
      if (events.some((e) => e.type === 'opened')) await decideOpened(events, deps());
      if (events.some((e) => e.type === 'worsened')) await rediagnoseWorsened(events, deps());
    },
    close: async () => {
      await built?.queue.close();
      await kube?.close();
    },
  };
}

/** The execution worker of a `worker` process, sharing the decision's catalog and queue. */
export function startExecutions(rt: Runtime, decideDeps: DecideDeps, log: Logger) {
  const deps: ExecutionDeps = {
    config: rt.config,
    clock: rt.clock,
    store: rt.store,
    tracker: rt.tracker,
    bus: rt.bus,
    audit: decideDeps.audit,
    // Read through on each use: the decision's live catalog (runbooks reload when their folder changes).
    get catalog() {
      return decideDeps.catalog;
    },
    redis: rt.connection,
    prefix: rt.prefix,
    dryRun: rt.env.dryRun,
    queue: decideDeps.queue,
    ...(decideDeps.diagnose ? { diagnose: decideDeps.diagnose } : {}),
  };
  return startExecutionWorker(deps, { connection: rt.redis.bullConnection(), log });
}
