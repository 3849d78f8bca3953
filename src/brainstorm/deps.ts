import { lazyKubePort } from '../adapters/kube-lazy.js';
import { AuditLog } from '../audit/audit-log.js';
import { errorMessage } from '../errors.js';
import { incidentHistory, metricHistory } from '../history/record-sweep.js';
import { NoticeBus } from '../memory/notices.js';
import { openMemory } from '../memory/open-memory.js';
import { loadCatalog } from '../runbooks/catalog.js';
import { runbooksDirOf } from '../runbooks/location.js';
import type { Runtime } from '../runtime/runtime.js';
import { proseWriterFrom } from './anthropic-prose.js';
import { type BrainstormDeps, type BrainstormRun, runBrainstorm } from './run-brainstorm.js';
import { windowEndingAt } from './window.js';

/**
 * The Brainstorm's sources and sinks for a Reef process: history, incidents, audit, runbook modes, a
 * Kubernetes port when clusters are configured (closed with `close`), memory and the notice stream.
 * Built per run, so a changed runbook folder is seen by the next night.
 */
export function brainstormDeps(
  rt: Runtime,
  warn?: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): { deps: BrainstormDeps; close(): Promise<void> } {
  const kube = Object.keys(rt.config.clusters).length > 0 ? lazyKubePort(rt.config) : undefined;
  const memory = openMemory(rt, warn, env);
  let modeOf: (id: string) => string | null = () => null;
  try {
    const catalog = loadCatalog(runbooksDirOf(rt.loaded, env));
    modeOf = (id) => catalog.get(id)?.mode ?? null;
  } catch (error) {
    warn?.(
      `runbooks did not load (${errorMessage(error)}); promotion candidates are listed whatever their mode`,
    );
  }
  const prose = proseWriterFrom({
    llm: rt.config.llm,
    timezone: rt.config.timezone,
    redis: rt.connection,
    prefix: rt.prefix,
    clock: rt.clock,
    env,
  });
  return {
    deps: {
      config: rt.config,
      clock: rt.clock,
      metrics: metricHistory(rt.connection, rt.prefix, rt.config),
      incidents: incidentHistory(rt.connection, rt.prefix, rt.config),
      store: rt.store,
      audit: new AuditLog(rt.connection, rt.prefix, { dataDir: rt.env.dataDir, clock: rt.clock }),
      ...(kube ? { kube } : {}),
      modeOf,
      redis: rt.connection,
      prefix: rt.prefix,
      notices: new NoticeBus(rt.connection, rt.prefix),
      ...(memory ? { memory } : {}),
      ...(prose ? { prose } : {}),
    },
    async close() {
      await kube?.close();
    },
  };
}

/**
 * The Brainstorm now, for a human who asked (`reef brainstorm --now`, `/reef brainstorm`): the last 24
 * hours up to this moment, written to memory and posted as a digest, every time it is asked.
 */
export async function brainstormNow(
  rt: Runtime,
  trigger: string,
  warn?: (message: string) => void,
): Promise<BrainstormRun> {
  const { deps, close } = brainstormDeps(rt, warn);
  try {
    return await runBrainstorm(deps, { window: windowEndingAt(rt.clock.now(), rt.config.timezone), trigger });
  } finally {
    await close();
  }
}
