import { type Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { AuditLog } from '../audit/audit-log.js';
import { errorMessage } from '../errors.js';
import { incidentHistory } from '../history/record-sweep.js';
import { consumeForMemory } from '../memory/memory-consumer.js';
import { openMemory } from '../memory/open-memory.js';
import type { Role } from '../runtime/roles.js';
import type { Runtime } from '../runtime/runtime.js';
import { BRAINSTORM_QUEUE, type BrainstormJobData } from '../schedule/queues.js';
import { brainstormDeps } from './deps.js';
import { runBrainstorm } from './run-brainstorm.js';
import { windowEndingAt } from './window.js';

/**
 * The worker role's part of the Brainstorm and of memory: it runs the scheduled Brainstorm jobs (one at
 * a time; any worker may take one, and the digest is posted once per date) and consumes incident
 * events as the `memory` group, recording incident history and writing incident notes.
 */
export function startBrainstorm(rt: Runtime, log: Logger): Role {
  const worker = new Worker<BrainstormJobData>(
    BRAINSTORM_QUEUE,
    async (job) => {
      const { deps, close } = brainstormDeps(rt, (message) => log.warn(message));
      try {
        const window = windowEndingAt(new Date(scheduledAt(job, rt.clock.now())), rt.config.timezone);
        const run = await runBrainstorm(deps, { window, trigger: job.data.trigger, oncePerDate: true });
        log.info(
          {
            job: job.id,
            date: run.report.date,
            suggestions: run.report.suggestions.length,
            memory: run.memory.status,
            posted: run.posted,
          },
          'brainstorm finished',
        );
        return { date: run.report.date, memory: run.memory.status, posted: run.posted };
      } finally {
        await close();
      }
    },
    { connection: rt.redis.bullConnection(), prefix: rt.prefix, concurrency: 1 },
  );
  worker.on('failed', (job, error) =>
    log.error({ job: job?.id, err: errorMessage(error) }, 'brainstorm failed'),
  );
  worker.on('error', (error) => log.error({ err: errorMessage(error) }, 'brainstorm worker error'));

  const controller = new AbortController();
  const blocking = rt.redis.connect({ blocking: true });
  blocking.on('error', () => {});
  const memory = openMemory(rt, (message) => log.warn(message));
  const consuming = consumeForMemory(
    {
      bus: rt.bus,
      incidents: incidentHistory(rt.connection, rt.prefix, rt.config),
      store: rt.store,
      audit: new AuditLog(rt.connection, rt.prefix, { dataDir: rt.env.dataDir, clock: rt.clock }),
      ...(memory ? { memory } : {}),
      timezone: rt.config.timezone,
    },
    blocking,
    controller.signal,
    (message) => log.warn({ err: message }, 'incident memory failed; the event will be retried'),
  );
  return {
    name: 'brainstorm',
    async stop() {
      await worker.close();
      controller.abort();
      await consuming;
      blocking.disconnect();
    },
  };
}

/** When a scheduled job was due (its scheduler's time, not when a worker got to it). */
export function scheduledAt(job: Pick<Job, 'id' | 'opts' | 'timestamp'>, fallback: Date): number {
  const prev = (job.opts as { prevMillis?: unknown }).prevMillis;
  if (typeof prev === 'number' && Number.isFinite(prev)) return prev;
  const fromId = /^repeat:.+:(\d+)$/.exec(job.id ?? '')?.[1];
  if (fromId) return Number(fromId);
  return job.timestamp || fallback.getTime();
}
