import type { Redis } from 'ioredis';
import { RedisCheckMemory } from '../adapters/check-memory.js';
import type { Clock } from '../adapters/clock.js';
import { latencyHintsFrom, runSweep, type SweepResult, type SweepRun } from '../checks/sweep.js';
import type { ReefConfig } from '../config/schema.js';
import type { EventBus } from '../events/event-bus.js';
import type { IncidentEvent } from '../events/incident-event.js';
import { recordSweep } from '../history/record-sweep.js';
import type { IncidentTracker } from '../incidents/tracker.js';
import { observeSweep } from '../metrics/process-metrics.js';
import type { SweepJobData } from '../schedule/queues.js';
import { createCheckContext } from './check-context.js';

export interface LastSweep {
  startedAt: string;
  durationMs: number;
  probed: number;
  trigger: string;
  only: string | null;
  counts: { ok: number; warning: number; critical: number; errors: number };
}

/**
 * What a worker does with a sweep job: probe, fold findings into incidents, publish what changed,
 * remember the sweep. Safe to run twice: incidents are keyed by fingerprint, so a repeated sweep
 * updates rather than duplicates.
 */
export async function processSweep(
  data: SweepJobData,
  deps: {
    config: ReefConfig;
    clock: Clock;
    tracker: IncidentTracker;
    bus: EventBus;
    redis: Redis;
    prefix: string;
    /** Per-probe latencies of earlier sweeps in this worker, so slow probes start first; updated here. */
    latencyHints: Map<string, number>;
    /** Decides what to do about the incidents this sweep opened (see execution/decide.ts). */
    afterIngest?: (events: readonly IncidentEvent[]) => Promise<void>;
  },
): Promise<SweepResult> {
  const { context, close } = createCheckContext(deps.config, {
    clock: deps.clock,
    memory: new RedisCheckMemory(deps.redis, deps.prefix),
  });
  let run: SweepRun;
  try {
    run = await runSweep(deps.config, context, { only: data.only, latencyHints: deps.latencyHints });
  } finally {
    await close();
  }
  for (const [key, ms] of latencyHintsFrom(run)) deps.latencyHints.set(key, ms);
  observeSweep(run); // this process's /metrics: sweeps, probe durations, findings by severity
  const { outcomes, ...result } = run;
  const events = await deps.tracker.ingest({ outcomes, only: result.only }, deps.config);
  await deps.bus.publish(events);
  await deps.afterIngest?.(events);
  // Metric history for the Nightly Brainstorm (drift, forecasts, restarts): a few numbers per target.
  await recordSweep(deps.redis, deps.prefix, deps.config, result.findings, deps.clock.now());
  const counts = { ok: 0, warning: 0, critical: 0, errors: result.errors.length };
  for (const f of result.findings) counts[f.severity]++;
  const last: LastSweep = {
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    probed: result.probed,
    trigger: data.trigger,
    only: result.only,
    counts,
  };
  await deps.redis.set(`${deps.prefix}:sweep:last`, JSON.stringify(last));
  return result;
}

export async function readLastSweep(redis: Redis, prefix: string): Promise<LastSweep | undefined> {
  const raw = await redis.get(`${prefix}:sweep:last`);
  return raw ? (JSON.parse(raw) as LastSweep) : undefined;
}
