import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { systemClock } from '../src/adapters/clock.js';
import { deleteKeysUnder, type RedisHandle } from '../src/adapters/redis.js';
import { fingerprintOf } from '../src/findings/finding.js';
import { INCIDENT_STATES, type Incident, type IncidentState } from '../src/incidents/incident.js';
import { IncidentStore } from '../src/incidents/store.js';
import { clusterRegistry } from '../src/metrics/cluster-metrics.js';
import { countIncidents } from '../src/metrics/incident-counts.js';
import { ObservedQueues } from '../src/metrics/observed-queues.js';
import { enableDefaultMetrics, processMetrics } from '../src/metrics/process-metrics.js';
import type { Scenario } from './scenario.js';
import { benchRedis } from './support/bench-redis.js';

interface Setup {
  incidents: number;
  activeShares: readonly number[];
  /** Timed scrapes (and incident counts) per store shape. */
  scrapes: number;
  /** Timed reads of every incident per store shape, for comparison. */
  readAllRuns: number;
}

const FULL: Setup = { incidents: 10_000, activeShares: [0.01, 1], scrapes: 30, readAllRuns: 5 };
/** `--quick`: 1,000 incidents (1 % active is then 10), fewer timed runs. */
const QUICK: Setup = { ...FULL, incidents: 1000, scrapes: 10, readAllRuns: 3 };

const ACTIVE_STATES = INCIDENT_STATES.filter((s) => s !== 'resolved' && s !== 'dismissed');

/** A realistic stored incident: a crash-looping pod's facts, a short history, a rule diagnosis. */
function incident(i: number, state: IncidentState, at: number): Incident {
  const pod = `web-${i.toString(36)}-x2x4z`;
  const iso = new Date(at).toISOString();
  return {
    id: String(i + 1),
    fingerprint: fingerprintOf('pods', `apps/${pod}`, 'CrashLoopBackOff'),
    check: 'pods',
    target: `apps/${pod}`,
    probe: 'lab',
    condition: 'CrashLoopBackOff',
    state,
    severity: 'critical',
    summary: `container app of apps/${pod} is in CrashLoopBackOff (restarted 5 times, last exit code 1)`,
    facts: {
      cluster: 'lab',
      namespace: 'apps',
      pod,
      ownerKind: 'Deployment',
      ownerName: 'web',
      stateful: false,
      node: 'node-1',
      container: 'app',
      restartCount: 5,
      lastTerminationReason: 'Error',
      exitCode: 1,
      waitingReason: 'CrashLoopBackOff',
    },
    openedAt: iso,
    updatedAt: iso,
    lastSeenAt: iso,
    occurrences: 3,
    openingsInWindow: 1,
    flapping: false,
    history: [
      { at: iso, state: 'open' },
      { at: iso, state: 'awaiting-approval', by: 'reef', note: 'runbook pod-restart' },
      ...(state === 'awaiting-approval'
        ? []
        : [{ at: iso, state, by: 'reef', note: 'target healthy again' }]),
    ],
  };
}

async function seed(store: IncidentStore, incidents: number, activeShare: number): Promise<number> {
  const now = Date.now();
  const active = Math.round(incidents * activeShare);
  for (let start = 0; start < incidents; start += 500) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(start + 500, incidents); i++) {
      const state = i < active ? ACTIVE_STATES[i % ACTIVE_STATES.length]! : 'resolved';
      const inc = incident(i, state, now - (incidents - i) * 60_000);
      batch.push(store.save(inc, state === 'resolved' ? { releaseFingerprint: true } : {}));
    }
    await Promise.all(batch);
  }
  return active;
}

async function timeIt(times: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const ms = (n: number) => n.toFixed(1);

/**
 * The cost of one `/metrics` scrape against a store of 10,000 incidents: the whole exposition (this
 * process's counters, Node's process metrics, incidents by state, queue depths and workers, LLM totals),
 * and the incident count alone, compared with reading every incident. Two shapes: 1 % of the incidents
 * active (a normal store, where closed ones accumulate for 90 days), and all of them active (the worst
 * case, where a scrape must read each one's state).
 */
export const metricsScenario: Scenario = {
  name: 'metrics',
  description: `/metrics scrape cost with ${FULL.incidents} incidents in Redis (1% and 100% active)`,
  deadlineMs: 120_000,
  async run({ log, signal, quick }) {
    const setup = quick ? QUICK : FULL;
    if (quick) log(`quick: ${setup.incidents} incidents, ${setup.scrapes} scrapes`);
    const dir = await mkdtemp(path.join(tmpdir(), 'reef-bench-metrics-'));
    let handle: RedisHandle | undefined;
    let redis: Redis | undefined;
    let queues: ObservedQueues | undefined;
    const prefixes: string[] = [];
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await queues?.close();
      if (redis) {
        for (const p of prefixes) await deleteKeysUnder(redis, p).catch(() => {});
        redis.disconnect();
      }
      await handle?.stop();
      await rm(dir, { recursive: true, force: true });
    };
    signal.addEventListener('abort', () => void release(), { once: true });
    try {
      handle = await benchRedis(dir, log);
      redis = handle.connect();
      enableDefaultMetrics(); // as a process serving /metrics does
      const table = [
        [
          'store',
          'active',
          'scrape median ms',
          'scrape p95 ms',
          'count median ms',
          'read-all median ms',
          'read-all / count',
          'bytes',
        ],
      ];
      const figures: Record<string, unknown> = { incidents: setup.incidents, scrapes: setup.scrapes };
      for (const share of setup.activeShares) {
        signal.throwIfAborted();
        const prefix = `reef-bench-metrics-${process.pid}-${Math.round(share * 100)}`;
        prefixes.push(prefix);
        const store = new IncidentStore(redis, prefix);
        const t0 = performance.now();
        const active = await seed(store, setup.incidents, share);
        log(
          `seeded ${setup.incidents} incidents (${active} active) in ${Math.round(performance.now() - t0)} ms`,
        );
        await queues?.close();
        queues = new ObservedQueues(handle.bullConnection(), prefix);
        const cluster = clusterRegistry({
          redis,
          prefix,
          clock: systemClock,
          timezone: 'UTC',
          monthlyBudgetUsd: 20,
          queues,
          shareMs: 0, // every scrape reads Redis afresh
        });
        const registry = Registry.merge([processMetrics().registry, cluster]);
        const text = await registry.metrics(); // warm-up
        const conn = redis;
        const scrape = await timeIt(setup.scrapes, () => registry.metrics());
        const count = await timeIt(setup.scrapes, () => countIncidents(conn, prefix));
        // What a scrape would cost reading every stored incident instead of the active index.
        const readAll = await timeIt(setup.readAllRuns, async () => {
          const all = await store.list({ limit: setup.incidents });
          const by = new Map<string, number>();
          for (const i of all) by.set(i.state, (by.get(i.state) ?? 0) + 1);
          return by;
        });
        const counted = await countIncidents(conn, prefix);
        const sum = Object.values(counted.byState).reduce((a, b) => a + b, 0);
        if (sum !== active || counted.closed !== setup.incidents - active)
          throw new Error(
            `counted ${sum} current and ${counted.closed} closed, expected ${active} and ${setup.incidents - active}`,
          );
        const label = `${Math.round(share * 100)}% active`;
        const ratio = pct(readAll, 0.5) / pct(count, 0.5);
        table.push([
          `${setup.incidents} incidents, ${label}`,
          String(active),
          ms(pct(scrape, 0.5)),
          ms(pct(scrape, 0.95)),
          ms(pct(count, 0.5)),
          ms(pct(readAll, 0.5)),
          `${ratio.toFixed(1)}×`,
          String(Buffer.byteLength(text)),
        ]);
        figures[label] = {
          active,
          scrapeMedianMs: Number(ms(pct(scrape, 0.5))),
          scrapeP95Ms: Number(ms(pct(scrape, 0.95))),
          countMedianMs: Number(ms(pct(count, 0.5))),
          readAllMedianMs: Number(ms(pct(readAll, 0.5))),
          readAllOverCount: Number(ratio.toFixed(1)),
          bytes: Buffer.byteLength(text),
        };
        log(
          `${label}: scrape median ${ms(pct(scrape, 0.5))} ms, incident count ${ms(pct(count, 0.5))} ms, read-all ${ms(pct(readAll, 0.5))} ms`,
        );
      }
      return {
        table,
        notes: [
          `Each scrape: ${setup.scrapes} runs of the whole exposition (process counters, Node's process metrics, incidents, 3 queues' job counts and workers, 27 months of LLM ledger), Redis read afresh each time.`,
          'count = incidents by state from the store indexes (ZCARD + the active incidents only); read-all = loading every stored incident, for comparison.',
          `Redis: ${handle.label}.`,
        ],
        figures,
      };
    } finally {
      await release();
    }
  },
};
