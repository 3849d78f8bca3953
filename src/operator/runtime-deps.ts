import { AuditLog } from '../audit/audit-log.js';
import { DEFAULT_EXPIRE_AFTER_MS } from '../execution/decide.js';
import { executionsQueue } from '../execution/queue.js';
import type { Catalog } from '../runbooks/catalog.js';
import { LiveCatalog } from '../runbooks/live-catalog.js';
import type { Runtime } from '../runtime/runtime.js';
import { parseDuration } from '../util/duration.js';
import type { OperatorDeps } from './actions.js';

/**
 * Operator actions' dependencies for a process (the CLI, the Slack bot). The executions queue is opened
 * here; `close()` closes it.
 */
export function operatorDepsFor(
  rt: Runtime,
  catalog: Catalog | LiveCatalog,
): OperatorDeps & { close(): Promise<void> } {
  const queue = executionsQueue(rt.redis.bullConnection(), rt.prefix);
  return {
    store: rt.store,
    bus: rt.bus,
    audit: new AuditLog(rt.connection, rt.prefix, { dataDir: rt.env.dataDir, clock: rt.clock }),
    clock: rt.clock,
    // A long-running bot reads the live folder on each use (runbooks reload when it changes).
    get catalog() {
      return catalog instanceof LiveCatalog ? catalog.current() : catalog;
    },
    queue,
    redis: rt.connection,
    prefix: rt.prefix,
    expireAfterMs: parseDuration(rt.config.approvals.expireAfter) ?? DEFAULT_EXPIRE_AFTER_MS,
    async close() {
      await queue.close();
    },
  };
}
