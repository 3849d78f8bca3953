import type { Logger } from 'pino';
import type { Role } from '../runtime/roles.js';
import type { Runtime } from '../runtime/runtime.js';
import { clusterRegistry } from './cluster-metrics.js';
import { metricsRoute } from './metrics-route.js';
import { ObservedQueues } from './observed-queues.js';
import { enableDefaultMetrics, processMetrics } from './process-metrics.js';

/**
 * What a process serving HTTP reports about Reef itself: the `/metrics` route, and the queues that
 * `/healthz` and `/metrics` both read (closed by the returned role).
 */
export function startMetrics(
  rt: Runtime,
  log: Pick<Logger, 'warn'>,
): { route: ReturnType<typeof metricsRoute>; queues: ObservedQueues; role: Role } {
  enableDefaultMetrics();
  const queues = new ObservedQueues(rt.redis.bullConnection(), rt.prefix);
  const cluster = clusterRegistry({
    redis: rt.connection,
    prefix: rt.prefix,
    clock: rt.clock,
    timezone: rt.config.timezone,
    monthlyBudgetUsd: rt.config.llm.monthlyBudgetUsd,
    queues,
    onError: (collector, message) =>
      log.warn({ collector, err: message }, 'a /metrics collector could not read Redis'),
  });
  return {
    route: metricsRoute([processMetrics().registry, cluster]),
    queues,
    role: { name: 'metrics', stop: () => queues.close() },
  };
}
