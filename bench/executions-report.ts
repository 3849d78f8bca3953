import type { ExecutionRecord } from '../src/execution/execution-record.js';
import type { ScenarioReport } from './scenario.js';
import type { EvictionStats } from './support/evict-stand-in.js';

export interface ExecutionsRun {
  setup: {
    deployments: number;
    namespaces: number;
    podsPerDeployment: number;
    workers: number;
    apiLatencyMs: number;
    verifyAfter: string;
  };
  /** `namespace/pod` of every incident. */
  pods: readonly string[];
  records: readonly ExecutionRecord[];
  /** Incident id → its lock target (`namespace/owner`). */
  targetOf: ReadonlyMap<string, string>;
  /** Epoch ms when the approvals began. */
  t0: number;
  enqueuedMs: number;
  doneMs: number;
  /** Jobs the workers picked up (a busy target's job is picked up again after its delay). */
  attempts: number;
  counts: Record<string, number>;
  runJobs: number;
  stats: EvictionStats;
}

/** Exactly-once and one-per-target checks, throughput and latencies; throws nothing, reports. */
export function reportExecutions(run: ExecutionsRun): ScenarioReport {
  const n = run.pods.length;
  const states: Record<string, number> = {};
  for (const r of run.records) states[r.state] = (states[r.state] ?? 0) + 1;
  const succeeded = states.succeeded ?? 0;

  const perPod = run.pods.map((p) => run.stats.evictions[p] ?? 0);
  const extraPods = Object.keys(run.stats.evictions).filter((p) => !run.pods.includes(p)).length;
  const evictionPosts = Object.values(run.stats.evictions).reduce((a, b) => a + b, 0);
  const exactlyOnce = perPod.every((c) => c === 1) && extraPods === 0 && succeeded === n;
  const maxInFlightPerOwner = Math.max(0, ...Object.values(run.stats.maxInFlightPerOwner));

  // From the records: the executions of one target, as [start, finish] intervals, must never overlap.
  const byTarget = new Map<string, [number, number][]>();
  for (const r of run.records) {
    const target = run.targetOf.get(r.incidentId) ?? '?';
    const span: [number, number] = [Date.parse(r.startedAt), Date.parse(r.finishedAt ?? r.startedAt)];
    byTarget.set(target, [...(byTarget.get(target) ?? []), span]);
  }
  let maxPerTarget = 0;
  for (const spans of byTarget.values()) maxPerTarget = Math.max(maxPerTarget, maxConcurrent(spans));
  const oneAtATime = maxPerTarget <= 1 && maxInFlightPerOwner <= 1;

  const finished = run.records
    .map((r) => Date.parse(r.finishedAt ?? r.startedAt) - run.t0)
    .sort((a, b) => a - b);
  const durations = run.records.map((r) => Date.parse(r.finishedAt ?? r.startedAt) - Date.parse(r.startedAt));
  const steps = run.records.flatMap((r) => r.steps.map((s) => s.durationMs));
  const lastMs = finished.at(-1) ?? 0;
  const half = finished[Math.floor(n / 2) - 1] ?? 0;
  const perSecond = lastMs > 0 ? (n * 1000) / lastMs : 0;
  const firstHalfPerSecond = half > 0 ? ((n / 2) * 1000) / half : 0;
  const runJobs = run.runJobs;
  const dedupeOk = runJobs === n;
  const verifyDelayed = run.counts.delayed ?? 0;

  const figures = {
    setup: run.setup,
    incidents: n,
    targets: byTarget.size,
    states,
    approvalsEnqueued: n * 3,
    runJobs,
    jobAttempts: run.attempts,
    busyDeferrals: run.attempts - runJobs,
    enqueueMs: run.enqueuedMs,
    wallMs: lastMs,
    observedDoneMs: run.doneMs,
    executionsPerSecond: round(perSecond),
    firstHalfMs: half,
    firstHalfPerSecond: round(firstHalfPerSecond),
    executionMs: stats(durations),
    evictionStepMs: stats(steps),
    evictionPosts,
    podsEvictedOnce: perPod.filter((c) => c === 1).length,
    podsEvictedTwiceOrMore: perPod.filter((c) => c > 1).length,
    podsNotEvicted: perPod.filter((c) => c === 0).length,
    exactlyOnce,
    maxConcurrentPerTargetRecords: maxPerTarget,
    maxInFlightEvictionsPerOwner: maxInFlightPerOwner,
    maxInFlightEvictionsTotal: run.stats.maxInFlightTotal,
    oneAtATimePerTarget: oneAtATime,
    verifyJobsDelayed: verifyDelayed,
    jobCounts: run.counts,
    peakRssMiB: round(process.resourceUsage().maxRSS / 1024),
  };
  const table = [
    ['metric', 'value'],
    ['incidents / targets', `${n} / ${byTarget.size}`],
    [
      'approvals enqueued (2 at once + 1 after)',
      `${n * 3} → ${runJobs} run jobs ${dedupeOk ? 'ok' : 'WRONG'}`,
    ],
    [
      'execution states',
      Object.entries(states)
        .map(([s, c]) => `${s} ${c}`)
        .join(', '),
    ],
    ['job pick-ups (busy target → delayed)', `${run.attempts} (${run.attempts - runJobs} deferrals)`],
    [`enqueue ${n * 2} approvals (ms)`, String(run.enqueuedMs)],
    ['wall time to last execution finished (ms)', String(lastMs)],
    [`executions per second (all ${n})`, perSecond.toFixed(1)],
    [`first ${n / 2} finished (ms) / per second`, `${half} / ${firstHalfPerSecond.toFixed(1)}`],
    ['execution median / p99 / max (ms)', fmt(figures.executionMs)],
    ['eviction step median / p99 / max (ms)', fmt(figures.evictionStepMs)],
    [
      'eviction POSTs (exactly 1 per pod)',
      `${evictionPosts}: ${exactlyOnce ? 'exactly once: ok' : 'NOT EXACTLY ONCE'}`,
    ],
    ['max concurrent per target (records)', String(maxPerTarget)],
    [
      'max in-flight evictions per owner (stand-in)',
      `${maxInFlightPerOwner} ${oneAtATime ? 'ok' : 'OVERLAP'}`,
    ],
    ['max in-flight evictions overall', String(run.stats.maxInFlightTotal)],
    ['delayed jobs left (verifications + approval expiries)', String(verifyDelayed)],
  ];
  const notes = [
    `Set-up: ${run.setup.deployments} Deployments × ${run.setup.podsPerDeployment} crash-looping pods in ${run.setup.namespaces} namespaces; incidents from the real pods check, tracker and decide (pod-restart in mode approve → awaiting-approval).`,
    `Then each approval (audit entry + enqueueRun) twice at once, ${run.setup.workers} real execution workers (default concurrency 4, busy target retried after 250 ms, doubling), fake API server (test/fixtures) in a child process answering after ${run.setup.apiLatencyMs} ms, real Redis.`,
    'Two incidents share each target: the one that finds the target locked is delayed (worker.ts busyDelayMs, 250 ms doubling up to 15 s), which sets the wall time; the first-half figure is the throughput before it.',
    `Verification (verify.after ${run.setup.verifyAfter}) stays a delayed job and is not measured, as does each request's approval expiry (30 min).`,
  ];
  return { table, notes, figures };
}

function maxConcurrent(spans: readonly [number, number][]): number {
  const events = spans.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]);
  // An end at the same millisecond as a start counts first: the lock is released after finishedAt is set.
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let max = 0;
  for (const [, d] of events) {
    now += d!;
    max = Math.max(max, now);
  }
  return max;
}

function stats(values: readonly number[]): { median: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return { median: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

function fmt(s: { median: number; p99: number; max: number }): string {
  return `${s.median} / ${s.p99} / ${s.max}`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
