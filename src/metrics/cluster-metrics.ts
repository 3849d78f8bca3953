import type { Redis } from 'ioredis';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Clock } from '../adapters/clock.js';
import { errorMessage } from '../errors.js';
import { INCIDENT_STATES } from '../incidents/incident.js';
import { countIncidents, type IncidentCounts } from './incident-counts.js';
import { readLlmTotals } from './llm-totals.js';
import type { ObservedQueues } from './observed-queues.js';

export interface ClusterMetricsSource {
  redis: Redis;
  prefix: string;
  clock: Clock;
  timezone: string;
  monthlyBudgetUsd: number;
  queues: Pick<ObservedQueues, 'jobCounts' | 'workers'>;
  onError?: (collector: string, message: string) => void;
  /** How long one read serves the series of a scrape and concurrent scrapes (default 1 s; bench: 0). */
  shareMs?: number;
}

/** States a current incident can be in (a resolved one is closed; see `reef_incidents_closed`). */
const GAUGED_STATES = INCIDENT_STATES.filter((s) => s !== 'resolved');

/**
 * What all Reef processes share, read from Redis when Prometheus scrapes: incidents by state, queue
 * depths and workers, LLM calls, tokens and dollars. Every process reports the same values, so
 * aggregate these with max(), not sum(). A read that fails leaves its series out of that scrape and
 * sets `reef_metrics_collector_up{collector}` to 0; the rest of the scrape is still served.
 *
 * Reads are shared for one second, so the several series of one scrape (and scrapes by two
 * Prometheus servers at once) cost one read.
 */
export function clusterRegistry(source: ClusterMetricsSource): Registry {
  const registry = new Registry();
  const registers = [registry];
  const reads: (() => Promise<void>)[] = [];
  const up = new Gauge({
    name: 'reef_metrics_collector_up',
    help: 'Whether the scrape-time read of this collector from Redis worked (1) or failed (0).',
    labelNames: ['collector'],
    registers,
    // Series are collected concurrently: wait for this scrape's reads, so `up` speaks for them.
    async collect() {
      await Promise.all(reads.map((read) => read()));
    },
  });
  const guarded = <T>(collector: string, read: () => Promise<T>) => {
    const shared = sharedFor(source.shareMs ?? 1000, read);
    reads.push(() =>
      shared().then(
        () => up.set({ collector }, 1),
        (error: unknown) => {
          up.set({ collector }, 0);
          source.onError?.(collector, errorMessage(error));
        },
      ),
    );
    return async (apply: (value: T) => void): Promise<void> => {
      let value: T;
      try {
        value = await shared();
      } catch {
        return; // reported once, by reef_metrics_collector_up
      }
      apply(value);
    };
  };

  const incidents = guarded<IncidentCounts>('incidents', () => countIncidents(source.redis, source.prefix));
  new Gauge({
    name: 'reef_incidents',
    help: 'Current incidents by state (active ones, and dismissed ones whose problem persists).',
    labelNames: ['state'],
    registers,
    async collect() {
      this.reset();
      await incidents((c) => {
        for (const state of GAUGED_STATES) this.set({ state }, c.byState[state]);
      });
    },
  });
  new Gauge({
    name: 'reef_incidents_closed',
    help: 'Closed incidents still kept (resolved, or dismissed and recovered; kept 90 days).',
    registers,
    async collect() {
      this.reset();
      await incidents((c) => this.set(c.closed));
    },
  });

  const jobs = guarded('queues', () => source.queues.jobCounts());
  new Gauge({
    name: 'reef_queue_jobs',
    help: 'Jobs in each BullMQ queue (checks, executions, brainstorm) by state.',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      this.reset();
      await jobs((counts) => {
        for (const [queue, states] of Object.entries(counts))
          for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
      });
    },
  });
  const workers = guarded('workers', () => source.queues.workers());
  new Gauge({
    name: 'reef_queue_workers',
    help: 'Workers connected to each queue, across all processes.',
    labelNames: ['queue'],
    registers,
    async collect() {
      this.reset();
      await workers((counts) => {
        for (const [queue, n] of Object.entries(counts)) this.set({ queue }, n);
      });
    },
  });

  // LLM use from the diagnosis cost ledger (src/diagnosis/ledger.ts), all processes together.
  const llm = guarded('llm', () =>
    readLlmTotals(source.redis, source.prefix, source.timezone, source.clock.now()),
  );
  const llmCounter = (
    name: string,
    help: string,
    pick: (t: Awaited<ReturnType<typeof readLlmTotals>>) => number,
  ) =>
    new Counter({
      name,
      help,
      registers,
      async collect() {
        this.reset();
        await llm((t) => this.inc(pick(t)));
      },
    });
  llmCounter(
    'reef_llm_calls_total',
    'LLM diagnosis calls (all processes, as the cost ledger keeps them).',
    (t) => t.total.calls,
  );
  llmCounter('reef_llm_failed_calls_total', 'LLM calls that gave no usable answer.', (t) => t.total.failures);
  llmCounter(
    'reef_llm_cache_hits_total',
    'Diagnoses answered from the cache (calls saved).',
    (t) => t.total.cacheHits,
  );
  llmCounter(
    'reef_llm_budget_skips_total',
    "Diagnoses left to the rules because the month's budget was spent.",
    (t) => t.total.budgetSkips,
  );
  llmCounter(
    'reef_llm_cost_dollars_total',
    'Estimated LLM spend in US dollars (from llm.prices).',
    (t) => t.total.costUsd,
  );
  new Counter({
    name: 'reef_llm_tokens_total',
    help: 'LLM tokens, by direction (input, output).',
    labelNames: ['direction'],
    registers,
    async collect() {
      this.reset();
      await llm((t) => {
        this.inc({ direction: 'input' }, t.total.inputTokens);
        this.inc({ direction: 'output' }, t.total.outputTokens);
      });
    },
  });
  new Gauge({
    name: 'reef_llm_month_cost_dollars',
    help: 'Estimated LLM spend this calendar month (in the configured time zone), in US dollars.',
    registers,
    async collect() {
      this.reset();
      await llm((t) => this.set(t.month.costUsd));
    },
  });
  new Gauge({
    name: 'reef_llm_monthly_budget_dollars',
    help: 'llm.monthlyBudgetUsd: past it, only the rules diagnose until next month.',
    registers,
    collect() {
      this.set(source.monthlyBudgetUsd);
    },
  });
  return registry;
}

/** `read` shared by every caller while it is in flight and for `ttlMs` after it settles. */
function sharedFor<T>(ttlMs: number, read: () => Promise<T>): () => Promise<T> {
  let last: { value: Promise<T>; settledAt?: number } | undefined;
  return () => {
    const fresh = last && (last.settledAt === undefined || Date.now() - last.settledAt <= ttlMs);
    if (!last || !fresh) {
      const entry: { value: Promise<T>; settledAt?: number } = { value: read() };
      last = entry;
      entry.value.then(
        () => {
          entry.settledAt = Date.now();
        },
        () => {
          // A failed read is not kept: the next scrape tries again.
          if (last === entry) last = undefined;
        },
      );
    }
    return last.value;
  };
}
