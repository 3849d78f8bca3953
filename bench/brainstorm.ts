import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { systemClock } from '../src/adapters/clock.js';
import { createKubePort } from '../src/adapters/kubernetes.js';
import { deleteKeysUnder, type RedisHandle, resolveRedis } from '../src/adapters/redis.js';
import { AuditLog } from '../src/audit/audit-log.js';
import { computeReport } from '../src/brainstorm/compute.js';
import { renderMarkdown } from '../src/brainstorm/render-markdown.js';
import { runBrainstorm } from '../src/brainstorm/run-brainstorm.js';
import { localDate, previousDate, windowEndingAt, windowForDate } from '../src/brainstorm/window.js';
import { incidentHistory, metricHistory, retentionOf } from '../src/history/record-sweep.js';
import { IncidentStore } from '../src/incidents/store.js';
import { MemoryRepo } from '../src/memory/memory-repo.js';
import { NoticeBus } from '../src/memory/notices.js';
import { type FakeCluster, startFakeCluster } from '../test/fixtures/kubeconfig.js';
import type { Scenario } from './scenario.js';
import { benchRedis } from './support/bench-redis.js';
import {
  makeFleet,
  putRollouts,
  writeFleetHistory,
  writeFleetIncidents,
} from './support/brainstorm-fleet.js';

const SETUP = {
  /** Report computations timed in the fresh process (the first one includes warming up). */
  runs: 3,
  timezone: 'Europe/Berlin',
  /** Old-generation cap of the second report process (shows what the report really needs). */
  cappedHeapMiB: 96,
} as const;

interface Sizing {
  targets: number;
  /** Days of hourly history written before the report. */
  days: number;
}

const FULL: Sizing = { targets: 1000, days: 35 };
/** `--quick`: the docs sample's 60 targets over the same 35 days (the report's baselines need them). */
const QUICK: Sizing = { targets: 60, days: 35 };

const CHILD_ENV = 'REEF_BENCH_BRAINSTORM';

interface ChildInput {
  /** The bench's data dir: the child finds the same Redis (a private one runs under it). */
  dataDir: string;
  /** The fleet's size: the child rebuilds the same fleet's config. */
  targets: number;
  prefix: string;
  kubeconfig: string;
  end: number;
  memoryDir: string;
}

interface ChildFigures {
  rssBeforeMiB: number;
  computeMs: number[];
  renderMs: number;
  /** The whole job: compute, render, secret scan, git commit, index, digest. */
  fullRunMs: number;
  peakRssMiB: number;
  suggestions: number;
  markdownBytes: number;
}

/**
 * The Nightly Brainstorm over 35 days of hourly history for 1,000 targets (about a million samples,
 * written through the real recording code), with the Kubernetes stand-in serving rollouts. The report
 * runs in a fresh process, so its peak RSS is the report's and not the history writer's.
 */
export const brainstormScenario: Scenario = {
  name: 'brainstorm',
  description: `Nightly Brainstorm over ${FULL.days} days of history for ${FULL.targets} targets: report time and peak RSS`,
  deadlineMs: 900_000,
  async run({ log, signal, quick }) {
    const sizing = quick ? QUICK : FULL;
    if (quick) log(`quick: ${sizing.targets} targets, ${sizing.days} days`);
    const dir = await mkdtemp(path.join(tmpdir(), 'reef-bench-brainstorm-'));
    const prefix = `reef-bench-brainstorm-${process.pid}-${Date.now().toString(36)}`;
    let handle: RedisHandle | undefined;
    let redis: Redis | undefined;
    let cluster: FakeCluster | undefined;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      if (redis) {
        await deleteKeysUnder(redis, prefix).catch(() => {});
        redis.disconnect();
      }
      await handle?.stop();
      await cluster?.close();
      await rm(dir, { recursive: true, force: true });
    };
    signal.addEventListener('abort', () => void release(), { once: true });
    try {
      handle = await benchRedis(dir, log);
      redis = handle.connect();
      cluster = await startFakeCluster();
      const today = localDate(Date.now(), SETUP.timezone);
      let end = windowForDate(today, '0 4 * * *', SETUP.timezone).to.getTime();
      if (end > Date.now())
        end = windowForDate(previousDate(today), '0 4 * * *', SETUP.timezone).to.getTime();
      const fleet = makeFleet({
        targets: sizing.targets,
        end,
        kubeconfig: cluster.kubeconfig,
        timezone: SETUP.timezone,
        prefix,
      });
      putRollouts(cluster.server.store, fleet);

      const memoryBefore = await usedMemory(redis);
      const t0 = performance.now();
      const samples = await writeFleetHistory(redis, prefix, fleet, sizing.days, (day) => {
        if (day % 7 === 0) log(`history: day ${day} of ${sizing.days}`);
        signal.throwIfAborted();
      });
      const writeMs = performance.now() - t0;
      const historyBytes = (await usedMemory(redis)) - memoryBefore;
      const series = (await metricHistory(redis, prefix, fleet.config).series()).length;
      const dayHashes = await countKeys(redis, `${prefix}:history:m:*`);
      log(
        `${samples} samples in ${(writeMs / 1000).toFixed(1)} s; ${series} series, ${dayHashes} day hashes`,
      );
      const clock = {
        ms: end - 2 * 86_400_000,
        now() {
          return new Date(this.ms);
        },
        advance(ms: number) {
          this.ms += ms;
        },
      };
      await writeFleetIncidents(redis, prefix, fleet, clock, retentionOf(fleet.config));

      const input: ChildInput = {
        dataDir: dir,
        targets: sizing.targets,
        prefix,
        kubeconfig: cluster.kubeconfig,
        end,
        memoryDir: path.join(dir, 'memory'),
      };
      const child = await reportInFreshProcess(input);
      log(
        `report: ${child.computeMs.map((ms) => ms.toFixed(0)).join(', ')} ms; peak RSS ${child.peakRssMiB.toFixed(0)} MiB`,
      );
      // V8 grows its heap lazily; the same report with the old generation capped shows the working set.
      const capped = await reportInFreshProcess(input, [`--max-old-space-size=${SETUP.cappedHeapMiB}`]);
      const median = median3(child.computeMs);
      const table = [
        ['measure', 'value'],
        ['targets / series / day hashes', `${sizing.targets} / ${series} / ${dayHashes}`],
        [`samples written (hourly sweeps, ${sizing.days} days)`, String(samples)],
        ['history write (recordSweep), s', (writeMs / 1000).toFixed(1)],
        ['history in Redis (used_memory delta), MiB', (historyBytes / 1048576).toFixed(1)],
        ['bytes per series and day', (historyBytes / Math.max(1, dayHashes)).toFixed(0)],
        [`report compute, ms (median of ${SETUP.runs}, fresh process)`, median.toFixed(0)],
        ['report compute, ms (first run, cold)', child.computeMs[0]!.toFixed(0)],
        ['render Markdown, ms', child.renderMs.toFixed(1)],
        ['whole job (compute, scan, git commit, index, digest), ms', child.fullRunMs.toFixed(0)],
        ['peak RSS of the report process, MiB', child.peakRssMiB.toFixed(1)],
        ['RSS before the report (node, tsx, modules), MiB', child.rssBeforeMiB.toFixed(1)],
        [
          `peak RSS with --max-old-space-size=${SETUP.cappedHeapMiB}, MiB (compute ms)`,
          `${capped.peakRssMiB.toFixed(1)} (${Math.round(median3(capped.computeMs))})`,
        ],
        [
          'suggestions / report size',
          `${child.suggestions} / ${(child.markdownBytes / 1024).toFixed(1)} KiB`,
        ],
      ];
      return {
        table,
        notes: [
          'History: one sweep an hour through recordSweep (the buckets are hourly, so a 15-minute schedule stores the same keys; only n and sum differ).',
          'The report runs in a fresh `node --import tsx` process; its peak RSS is maxRSS of that process, Node and tsx included.',
          `Redis memory is INFO used_memory before and after writing the history (other clients of this Redis add noise).`,
        ],
        figures: {
          targets: sizing.targets,
          days: sizing.days,
          series,
          dayHashes,
          samples,
          historyWriteMs: Math.round(writeMs),
          historyRedisMiB: Math.round((historyBytes / 1048576) * 10) / 10,
          reportComputeMedianMs: Math.round(median),
          reportComputeColdMs: Math.round(child.computeMs[0]!),
          renderMs: Math.round(child.renderMs * 10) / 10,
          fullRunMs: Math.round(child.fullRunMs),
          peakRssMiB: Math.round(child.peakRssMiB * 10) / 10,
          rssBeforeMiB: Math.round(child.rssBeforeMiB * 10) / 10,
          cappedHeapPeakRssMiB: Math.round(capped.peakRssMiB * 10) / 10,
          cappedHeapComputeMs: Math.round(median3(capped.computeMs)),
        },
      };
    } finally {
      await release();
    }
  },
};

function median3(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

function reportInFreshProcess(input: ChildInput, nodeArgs: readonly string[] = []): Promise<ChildFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, [CHILD_ENV]: JSON.stringify(input) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined)
        return reject(new Error(`the report process exited ${code}: ${out}`));
      resolve(JSON.parse(line) as ChildFigures);
    });
  });
}

/** In the fresh process: the report `runs` times (compute only), then the whole job once. */
async function childReport(input: ChildInput): Promise<ChildFigures> {
  const handle = await resolveRedis({
    url: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    explicit: Boolean(process.env.REDIS_URL),
    dataDir: input.dataDir,
    mayStartPrivate: false,
  });
  const redis = handle.connect();
  const fleet = makeFleet({
    targets: input.targets,
    end: input.end,
    kubeconfig: input.kubeconfig,
    timezone: SETUP.timezone,
    prefix: input.prefix,
  });
  const config = fleet.config;
  const kube = createKubePort(config);
  const clock = { now: () => new Date(input.end) };
  const audit = new AuditLog(redis, input.prefix, { clock });
  const deps = {
    config,
    clock,
    metrics: metricHistory(redis, input.prefix, config),
    incidents: incidentHistory(redis, input.prefix, config),
    store: new IncidentStore(redis, input.prefix),
    audit,
    kube,
    redis,
    prefix: input.prefix,
    notices: new NoticeBus(redis, input.prefix),
    memory: new MemoryRepo({
      dir: input.memoryDir,
      quarantineDir: `${input.memoryDir}-quarantine`,
      config: config.memory,
      clock: systemClock,
      audit,
    }),
  };
  const window = windowEndingAt(new Date(input.end), SETUP.timezone);
  const rssBeforeMiB = process.memoryUsage().rss / 1048576;
  const computeMs: number[] = [];
  let report: Awaited<ReturnType<typeof computeReport>> | undefined;
  for (let i = 0; i < SETUP.runs; i++) {
    const t = performance.now();
    report = await computeReport(deps, window);
    computeMs.push(performance.now() - t);
  }
  if (!report) throw new Error('no report computed');
  const r0 = performance.now();
  const markdown = renderMarkdown(report);
  const renderMs = performance.now() - r0;
  const f0 = performance.now();
  const run = await runBrainstorm(deps, { window, trigger: 'bench' });
  const fullRunMs = performance.now() - f0;
  if (run.memory.status !== 'committed' && run.memory.status !== 'unchanged')
    throw new Error(`the report did not reach memory: ${JSON.stringify(run.memory)}`);
  await kube.close();
  redis.disconnect();
  return {
    rssBeforeMiB,
    computeMs,
    renderMs,
    fullRunMs,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    suggestions: report.suggestions.length,
    markdownBytes: Buffer.byteLength(markdown),
  };
}

if (process.env[CHILD_ENV] !== undefined) {
  const figures = await childReport(JSON.parse(process.env[CHILD_ENV]) as ChildInput);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}
