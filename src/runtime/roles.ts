import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { startBrainstorm } from '../brainstorm/worker.js';
import type { SweepResult } from '../checks/sweep.js';
import { errorMessage } from '../errors.js';
import { startDeciding, startExecutions } from '../execution/start.js';
import { NoticeBus } from '../memory/notices.js';
import {
  brainstormQueue,
  CHECKS_QUEUE,
  checksQueue,
  SWEEP_JOB,
  type SweepJobData,
} from '../schedule/queues.js';
import { upsertBrainstormSchedule, upsertSchedules } from '../schedule/scheduler.js';
import type { ChatSurface } from '../surfaces/chat-surface.js';
import type { Runtime } from './runtime.js';
import { processSweep } from './sweep-processor.js';

/** A running part of Reef; `stop` lets in-flight work finish, then closes its connections. */
export interface Role {
  name: string;
  stop(): Promise<void>;
}

/** Declares the Job Schedulers (idempotent) and, with `runNow`, queues a first sweep at once. */
export async function startScheduler(rt: Runtime, log: Logger, options: { runNow: boolean }): Promise<Role> {
  const queue = checksQueue(rt.redis.bullConnection(), rt.prefix);
  await upsertSchedules(queue, rt.config);
  log.info({ pattern: rt.config.schedule.checks, tz: rt.config.timezone }, 'sweep schedule upserted');
  const brainstorm = brainstormQueue(rt.redis.bullConnection(), rt.prefix);
  await upsertBrainstormSchedule(brainstorm, rt.config);
  log.info(
    { pattern: rt.config.schedule.brainstorm, tz: rt.config.timezone },
    'brainstorm schedule upserted',
  );
  if (options.runNow) {
    // One boot sweep per minute, however many processes boot together.
    const minute = Math.floor(rt.clock.now().getTime() / 60_000);
    await queue.add(SWEEP_JOB, { trigger: 'boot' }, { jobId: `boot-${minute}` });
  }
  return {
    name: 'scheduler',
    async stop() {
      await queue.close();
      await brainstorm.close();
    },
  };
}

/** Processes sweep jobs. Several workers (processes or machines) share the queue; each job runs once. */
export function startWorker(rt: Runtime, log: Logger): Role {
  const latencyHints = new Map<string, number>();
  const deciding = startDeciding(rt, log);
  const executions = startExecutions(rt, deciding.deps(), log);
  const brainstorm = startBrainstorm(rt, log);
  const worker = new Worker<SweepJobData, SweepResult>(
    CHECKS_QUEUE,
    async (job) => {
      const result = await processSweep(job.data, {
        config: rt.config,
        clock: rt.clock,
        tracker: rt.tracker,
        bus: rt.bus,
        redis: rt.connection,
        prefix: rt.prefix,
        latencyHints,
        afterIngest: deciding.afterIngest,
      });
      log.info(
        {
          job: job.id,
          trigger: job.data.trigger,
          probed: result.probed,
          durationMs: result.durationMs,
          problems: result.findings.filter((f) => f.severity !== 'ok').length,
          errors: result.errors.length,
        },
        'sweep finished',
      );
      return result;
    },
    { connection: rt.redis.bullConnection(), prefix: rt.prefix, concurrency: 2 },
  );
  worker.on('failed', (job, error) => log.error({ job: job?.id, err: errorMessage(error) }, 'sweep failed'));
  worker.on('error', (error) => log.error({ err: errorMessage(error) }, 'worker error'));
  return {
    name: 'worker',
    async stop() {
      await worker.close();
      await brainstorm.stop();
      await executions.stop();
      await deciding.close();
    },
  };
}

/** Delivers incident events to a chat surface (the console, or Slack when configured). */
export function startSurface(rt: Runtime, surface: ChatSurface, log: Logger): Role {
  const controller = new AbortController();
  const blocking = rt.redis.connect({ blocking: true });
  blocking.on('error', () => {});
  const done = rt.bus.consume(
    blocking,
    (event) => surface.notify(event),
    controller.signal,
    (message) => log.warn({ err: message }, 'event delivery failed; retrying'),
  );
  // Digests and alerts (not about one incident) come on a stream of their own.
  const noticeConnection = rt.redis.connect({ blocking: true });
  noticeConnection.on('error', () => {});
  const notices = new NoticeBus(rt.connection, rt.prefix).deliver(
    noticeConnection,
    surface,
    controller.signal,
    (message) => log.warn({ err: message }, 'notice delivery failed; retrying'),
  );
  return {
    name: `surface:${surface.name}`,
    async stop() {
      controller.abort();
      await done;
      await notices;
      blocking.disconnect();
      noticeConnection.disconnect();
    },
  };
}
