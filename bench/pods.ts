import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { RedisCheckMemory } from '../src/adapters/check-memory.js';
import { systemClock } from '../src/adapters/clock.js';
import { deleteKeysUnder, type RedisHandle } from '../src/adapters/redis.js';
import { runSweep } from '../src/checks/sweep.js';
import { configSchema, type ReefConfig } from '../src/config/schema.js';
import { EventBus } from '../src/events/event-bus.js';
import { fingerprintOf } from '../src/findings/finding.js';
import { IncidentStore } from '../src/incidents/store.js';
import { IncidentTracker } from '../src/incidents/tracker.js';
import { createCheckContext } from '../src/runtime/check-context.js';
import { type PodWatches, startPodWatches } from '../src/runtime/pod-watch.js';
import { readWatchRecords } from '../src/runtime/watch-record.js';
import { writeKubeconfig } from '../test/fixtures/kubeconfig.js';
import type { Scenario, ScenarioReport } from './scenario.js';
import { benchRedis } from './support/bench-redis.js';
import {
  type KubeStandIn,
  type KubeStandInSpec,
  standInPods,
  startKubeStandIn,
} from './support/kube-stand-in.js';

interface Setup extends KubeStandInSpec {
  flips: number;
  /** Detection goal: flip in the stream → incident stored in Redis. */
  latencyGoalMs: number;
  /** How often the bench looks for the incident: the resolution of the latency figures. */
  pollMs: number;
}

const FULL: Setup = {
  pods: 5000,
  namespaces: 10,
  podsPerDeployment: 50,
  crashing: 50,
  flips: 100,
  latencyGoalMs: 2000,
  pollMs: 2,
};

/** `--quick`: 1,000 pods (still two list pages), 10 crash-looping, 10 flips. */
const QUICK: Setup = { ...FULL, pods: 1000, namespaces: 5, crashing: 10, flips: 10 };

interface SweepFigures {
  label: string;
  probeMs: number;
  ingestMs: number;
  listRequests: number;
  replicaSetLookups: number;
  findings: { ok: number; warning: number; critical: number };
  errors: number;
  cpuMs: number;
  loopDelayP99Ms: number;
}

/**
 * (a) Sweeps of a 5,000-pod cluster with 50 pods crash-looping, through the real pods check, client-node
 * and incident tracker; (b) detection latency of the pod watch: a pod flipped to CrashLoopBackOff in the
 * stand-in until its incident is in Redis, over 100 flips (each recovered, and its resolution timed, before
 * the next). The API server stand-in runs in a child process; Redis is REDIS_URL or a private one.
 */
export const podsScenario: Scenario = {
  name: 'pods',
  description: `${FULL.pods} pods (${FULL.crashing} crash-looping): sweep wall time, and watch detection latency over ${FULL.flips} flips`,
  deadlineMs: 180_000,
  async run({ log, signal, quick }) {
    const setup = quick ? QUICK : FULL;
    if (quick) log(`quick: ${setup.pods} pods (${setup.crashing} crash-looping), ${setup.flips} flips`);
    const dir = await mkdtemp(path.join(tmpdir(), 'reef-bench-pods-'));
    const prefix = `reef-bench-pods-${process.pid}`;
    let standIn: KubeStandIn | undefined;
    let redisHandle: RedisHandle | undefined;
    let redis: Redis | undefined;
    let watches: PodWatches | undefined;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await watches?.stop().catch(() => {});
      if (redis) {
        await deleteKeysUnder(redis, prefix).catch(() => {});
        redis.disconnect();
      }
      await redisHandle?.stop();
      await standIn?.stop();
      await rm(dir, { recursive: true, force: true });
    };
    signal.addEventListener('abort', () => void release(), { once: true });
    try {
      const t0 = performance.now();
      standIn = await startKubeStandIn(spec(setup));
      log(
        `API server stand-in in child pid ${standIn.pid} at ${standIn.url}, ${setup.pods} pods in ${Math.round(performance.now() - t0)} ms`,
      );
      const kubeconfig = await writeKubeconfig(dir, [{ name: 'bench', server: standIn.url }]);
      redisHandle = await benchRedis(dir, log);
      redis = redisHandle.connect();
      const config = configSchema.parse({
        redis: { prefix },
        clusters: { bench: { kubeconfig } },
        checks: { pods: [{ cluster: 'bench' }] },
      });
      const store = new IncidentStore(redis, prefix);
      const tracker = new IncidentTracker(store, systemClock);

      const sweeps: SweepFigures[] = [];
      for (const label of ['first sweep', 'second sweep']) {
        signal.throwIfAborted();
        sweeps.push(await measureSweep(label, config, standIn, redis, prefix, tracker));
        log(`${label}: probe ${sweeps.at(-1)!.probeMs} ms, ingest ${sweeps.at(-1)!.ingestMs} ms`);
      }

      signal.throwIfAborted();
      const started = performance.now();
      watches = startPodWatches({
        config,
        clock: systemClock,
        tracker,
        store,
        bus: new EventBus(redis, prefix),
        redis,
        prefix,
      });
      const healthy = standInPods(spec(setup)).filter((p) => !p.crashing);
      const until = (condition: () => Promise<boolean>) => poll(condition, setup.pollMs, signal);
      const conn = redis;
      const detect = async (pod: (typeof healthy)[number]) => {
        const fingerprint = fingerprintOf('pods', `${pod.namespace}/${pod.name}`, 'CrashLoopBackOff');
        const t = performance.now();
        await standIn!.command({ op: 'flip', namespace: pod.namespace, name: pod.name });
        await until(async () => (await store.currentFor(fingerprint)) !== undefined);
        const detectedMs = performance.now() - t;
        const r = performance.now();
        await standIn!.command({ op: 'recover', namespace: pod.namespace, name: pod.name });
        await until(async () => (await store.currentFor(fingerprint)) === undefined);
        return { detectedMs, resolvedMs: performance.now() - r };
      };
      await until(
        async () => (await readWatchRecords(conn, prefix, ['bench']))[0]?.record?.state === 'connected',
      );
      // The first flip waits behind the initial list's ingest: it measures start-up, not detection.
      await detect(healthy.at(-1)!);
      const startupMs = performance.now() - started;
      log(`watch connected and initial list ingested in ${Math.round(startupMs)} ms`);
      const detected: number[] = [];
      const resolved: number[] = [];
      const step = Math.floor((healthy.length - 1) / setup.flips);
      for (let i = 0; i < setup.flips; i++) {
        signal.throwIfAborted();
        const { detectedMs, resolvedMs } = await detect(healthy[i * step]!);
        detected.push(detectedMs);
        resolved.push(resolvedMs);
      }
      return report(setup, sweeps, { startupMs, detected, resolved });
    } finally {
      await release();
    }
  },
};

/** Only the stand-in's fields: the spec is sent to the child process. */
function spec(setup: Setup): KubeStandInSpec {
  const { pods, namespaces, podsPerDeployment, crashing } = setup;
  return { pods, namespaces, podsPerDeployment, crashing };
}

async function measureSweep(
  label: string,
  config: ReefConfig,
  standIn: KubeStandIn,
  redis: Redis,
  prefix: string,
  tracker: IncidentTracker,
): Promise<SweepFigures> {
  const lists = await standIn.count('list', 'pods');
  const lookups = await standIn.count('get', 'replicasets');
  // A worker's context: restart counts in Redis, so the second sweep compares with the first.
  const built = createCheckContext(config, {
    clock: systemClock,
    memory: new RedisCheckMemory(redis, prefix),
  });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let run: Awaited<ReturnType<typeof runSweep>>;
  try {
    run = await runSweep(config, built.context, { probeDeadlineMs: 60_000 });
  } finally {
    await built.close();
  }
  const probeMs = performance.now() - t0;
  const t1 = performance.now();
  await tracker.ingest({ outcomes: run.outcomes, only: null }, config);
  const ingestMs = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const findings = { ok: 0, warning: 0, critical: 0 };
  for (const f of run.findings) findings[f.severity]++;
  return {
    label,
    probeMs: round(probeMs),
    ingestMs: round(ingestMs),
    listRequests: (await standIn.count('list', 'pods')) - lists,
    replicaSetLookups: (await standIn.count('get', 'replicasets')) - lookups,
    findings,
    errors: run.errors.length,
    cpuMs: round((cpu.user + cpu.system) / 1000),
    loopDelayP99Ms: round(loop.percentile(99) / 1e6),
  };
}

function report(
  setup: Setup,
  sweeps: readonly SweepFigures[],
  watch: { startupMs: number; detected: number[]; resolved: number[] },
): ScenarioReport {
  const detected = stats(watch.detected);
  const resolved = stats(watch.resolved);
  const goalMet = detected.p99 <= setup.latencyGoalMs;
  const row = (metric: string, cell: (s: SweepFigures) => string) => [metric, ...sweeps.map(cell)];
  const table = [
    row('', (s) => s.label),
    row('pods', () => String(setup.pods)),
    row('list requests (pages of 500)', (s) => String(s.listRequests)),
    row('ReplicaSet lookups', (s) => String(s.replicaSetLookups)),
    row('probe wall time (ms)', (s) => s.probeMs.toFixed(1)),
    row('ingest into incidents (ms)', (s) => s.ingestMs.toFixed(1)),
    row('findings ok', (s) => String(s.findings.ok)),
    row('findings warning', (s) => String(s.findings.warning)),
    row('findings critical', (s) => String(s.findings.critical)),
    row('check errors', (s) => String(s.errors)),
    row('CPU time in Reef (ms)', (s) => s.cpuMs.toFixed(1)),
    row('event-loop delay p99 (ms)', (s) => s.loopDelayP99Ms.toFixed(1)),
    ['watch: start-up, list + ingest (ms)', watch.startupMs.toFixed(1), ''],
    [`watch: detection median (ms), ${setup.flips} flips`, detected.median.toFixed(1), ''],
    [
      `watch: detection p99 (goal <= ${setup.latencyGoalMs})`,
      `${detected.p99.toFixed(1)} ${goalMet ? 'met' : 'MISSED'}`,
      '',
    ],
    ['watch: detection max (ms)', detected.max.toFixed(1), ''],
    ['watch: resolution median / p99 (ms)', `${resolved.median.toFixed(1)} / ${resolved.p99.toFixed(1)}`, ''],
  ];
  const notes = [
    `Set-up: ${setup.pods} pods in ${setup.namespaces} namespaces, ${setup.pods / setup.podsPerDeployment} Deployments (one ReplicaSet each), ` +
      `${setup.crashing} pods in CrashLoopBackOff; fake API server (test/fixtures) in a child process, real @kubernetes/client-node, real Redis.`,
    "Sweep: runSweep with the worker's Redis check memory (the second sweep compares restart counts), then tracker.ingest (a full sweep); ReplicaSet lookups only for unhealthy pods, once per ReplicaSet.",
    `Detection: the pod flips in the stand-in (acknowledged over IPC) until IncidentStore.currentFor finds the incident, polled every ${setup.pollMs} ms; each flip is then recovered and its resolution timed before the next.`,
  ];
  return {
    table,
    notes,
    figures: {
      setup,
      sweeps,
      watch: {
        startupMs: round(watch.startupMs),
        detection: detected,
        resolution: resolved,
        goalMs: setup.latencyGoalMs,
        goalMet,
      },
      peakRssMiB: round(process.resourceUsage().maxRSS / 1024),
    },
  };
}

async function poll(
  condition: () => Promise<boolean>,
  pollMs: number,
  signal: AbortSignal,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    signal.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function stats(values: readonly number[]): { median: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return { median: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
