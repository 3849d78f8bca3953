import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { systemClock } from '../src/adapters/clock.js';
import { latencyHintsFrom, runSweep } from '../src/checks/sweep.js';
import { configSchema, type ReefConfig } from '../src/config/schema.js';
import type { Finding } from '../src/findings/finding.js';
import { createCheckContext } from '../src/runtime/check-context.js';
import type { Scenario, ScenarioReport } from './scenario.js';
import { makeLoopbackPki } from './support/pki.js';
import { type StandIns, startStandIns } from './support/stand-ins.js';

interface Setup {
  httpEndpoints: number;
  httpServers: number;
  tlsEndpoints: number;
  /** Every Nth HTTP endpoint answers late. */
  slowHttpEvery: number;
  /** Every Nth TLS endpoint handshakes late. */
  slowTlsEvery: number;
  slowDelayMs: number;
  /** Sweep wall time over the slowest single probe: the sweep should cost little beyond its slowest probe. */
  ratioGoal: number;
}

/** 10 of 1,000 HTTP answers and 4 of 200 TLS handshakes late. */
const FULL: Setup = {
  httpEndpoints: 1000,
  httpServers: 16,
  tlsEndpoints: 200,
  slowHttpEvery: 100,
  slowTlsEvery: 50,
  slowDelayMs: 800,
  ratioGoal: 1.5,
};

/** `--quick`: 5 of 100 HTTP answers and 2 of 20 TLS handshakes late, by 300 ms. */
const QUICK: Setup = {
  httpEndpoints: 100,
  httpServers: 4,
  tlsEndpoints: 20,
  slowHttpEvery: 20,
  slowTlsEvery: 10,
  slowDelayMs: 300,
  ratioGoal: 1.5,
};

/**
 * The first sweep has no history; later ones get the previous sweep's per-probe latencies, as a Reef
 * worker does from one scheduled sweep to the next, so slow probes start first.
 */
const RUNS = [
  { label: 'first (no history)', concurrency: 64, history: false },
  { label: 'c=64', concurrency: 64, history: true },
  { label: 'c=64 no history', concurrency: 64, history: false },
  { label: 'c=256', concurrency: 256, history: true },
] as const;

interface RunFigures {
  label: string;
  concurrency: number;
  probed: number;
  wallMs: number;
  slowestHttpMs: number;
  slowestTlsMs: number;
  slowestMs: number;
  /** Median probe latency: fast probes should stay near a millisecond on loopback. */
  medianProbeMs: number;
  ratio: number;
  ratioGoalMet: boolean;
  /**
   * Wall time over the injected delay. Unlike `ratio`, it cannot look good because a blocked event loop
   * inflated the slowest probe as well.
   */
  wallOverDelay: number;
  findings: { ok: number; warning: number; critical: number };
  errors: number;
  /** Event-loop delay of the bench process during the sweep. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** CPU time (user + system) the bench process spent during the sweep: how CPU-bound the sweep is. */
  cpuMs: number;
  /** process.resourceUsage().maxRSS after this run: the process's peak so far, not this run's alone. */
  peakRssMiB: number;
  /** Findings that were not ok and check errors, by check/condition, with one example each. */
  notOk: Record<string, { count: number; example: string }>;
}

/**
 * One full sweep over 1,000 HTTP and 200 TLS endpoints on loopback, a few of them slow, through the real
 * `runSweep` and adapters. A sweep should take about as long as its slowest probe, not the sum of them.
 */
export const sweepScenario: Scenario = {
  name: 'sweep',
  description: `one sweep of ${FULL.httpEndpoints} HTTP + ${FULL.tlsEndpoints} TLS loopback endpoints, a few slow by ${FULL.slowDelayMs} ms`,
  deadlineMs: 40_000,
  async run({ log, signal, quick }) {
    const setup = quick ? QUICK : FULL;
    if (quick)
      log(
        `quick: ${setup.httpEndpoints} HTTP + ${setup.tlsEndpoints} TLS endpoints, slow by ${setup.slowDelayMs} ms`,
      );
    const dir = await mkdtemp(path.join(tmpdir(), 'reef-bench-'));
    let servers: StandIns | undefined;
    // Idempotent, so both an abort and the finally below may call it.
    const release = async () => {
      await servers?.stop();
      await rm(dir, { recursive: true, force: true });
    };
    // On abort the sweep in flight fails fast against stopped servers; it cannot be cancelled otherwise.
    signal.addEventListener('abort', () => void release(), { once: true });
    try {
      const pki = await makeLoopbackPki(dir);
      const handshakeDelaysMs = Array.from({ length: setup.tlsEndpoints }, (_, i) =>
        isSlow(i, setup.slowTlsEvery) ? setup.slowDelayMs : 0,
      );
      servers = await startStandIns({
        httpServers: setup.httpServers,
        tls: { certFile: pki.certFile, keyFile: pki.keyFile, handshakeDelaysMs },
      });
      log(
        `stand-ins in child pid ${servers.pid}: ${servers.httpPorts.length} HTTP servers, ${servers.tlsPorts.length} TLS ports`,
      );
      const figures: RunFigures[] = [];
      let hints: Map<string, number> | undefined;
      for (const run of RUNS) {
        signal.throwIfAborted();
        const config = buildConfig(setup, servers, pki.caFile, run.concurrency);
        const result = await measure(setup, run.label, config, run.history ? hints : undefined);
        hints = result.hints;
        log(`${run.label}: ${result.wallMs} ms, slowest probe ${result.slowestMs} ms`);
        const { hints: _hints, ...figuresOnly } = result;
        figures.push(figuresOnly);
      }
      return report(setup, figures);
    } finally {
      await release();
    }
  },
};

function isSlow(index: number, every: number): boolean {
  // Mid-bucket, so slow probes are spread through the plan rather than bunched at either end.
  return index % every === Math.floor(every / 2);
}

function buildConfig(setup: Setup, servers: StandIns, caFile: string, concurrency: number): ReefConfig {
  const http = Array.from({ length: setup.httpEndpoints }, (_, i) => {
    const port = servers.httpPorts[i % servers.httpPorts.length]!;
    const query = isSlow(i, setup.slowHttpEvery) ? `?delayMs=${setup.slowDelayMs}` : '';
    return { name: `http-${i}`, url: `http://127.0.0.1:${port}/endpoint/${i}${query}`, retries: 0 };
  });
  const certificates = servers.tlsPorts.map((port, i) => ({
    name: `tls-${i}`,
    url: `https://127.0.0.1:${port}`,
    caFile,
  }));
  return configSchema.parse({ sweep: { concurrency }, checks: { http, certificates } });
}

async function measure(
  setup: Setup,
  label: string,
  config: ReefConfig,
  latencyHints: Map<string, number> | undefined,
): Promise<RunFigures & { hints: Map<string, number> }> {
  const checkContext = createCheckContext(config, { clock: systemClock });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let result: Awaited<ReturnType<typeof runSweep>>;
  let wallMs: number;
  let cpu0: NodeJS.CpuUsage | undefined;
  let cpuMs = 0;
  try {
    loop.enable();
    cpu0 = process.cpuUsage();
    const t0 = performance.now();
    result = await runSweep(config, checkContext.context, {
      probeDeadlineMs: 15_000,
      ...(latencyHints ? { latencyHints } : {}),
    });
    wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuMs = (cpu.user + cpu.system) / 1000;
  } finally {
    loop.disable();
    await checkContext.close();
  }
  const slowestHttpMs = slowest(result.findings, 'http');
  const slowestTlsMs = slowest(result.findings, 'certificate');
  const slowestMs = Math.max(slowestHttpMs, slowestTlsMs);
  const ratio = slowestMs > 0 ? wallMs / slowestMs : Number.POSITIVE_INFINITY;
  const findings = { ok: 0, warning: 0, critical: 0 };
  for (const f of result.findings) findings[f.severity]++;
  const notOk: RunFigures['notOk'] = {};
  const tally = (key: string, example: string) => {
    const entry = notOk[key];
    if (entry) entry.count++;
    else notOk[key] = { count: 1, example };
  };
  for (const f of result.findings) {
    if (f.severity !== 'ok') tally(`${f.check}/${f.condition}`, `${f.target}: ${f.summary}`);
  }
  for (const e of result.errors) tally(`${e.check}/error`, `${e.target}: ${e.message}`);
  return {
    label,
    concurrency: config.sweep.concurrency,
    probed: result.probed,
    wallMs: round(wallMs),
    slowestHttpMs: round(slowestHttpMs),
    slowestTlsMs: round(slowestTlsMs),
    slowestMs: round(slowestMs),
    medianProbeMs: round(median(latencies(result.findings))),
    ratio: Math.round(ratio * 100) / 100,
    ratioGoalMet: ratio <= setup.ratioGoal,
    wallOverDelay: Math.round((wallMs / setup.slowDelayMs) * 100) / 100,
    findings,
    errors: result.errors.length,
    loopDelayP99Ms: round(loop.percentile(99) / 1e6),
    loopDelayMaxMs: round(loop.max / 1e6),
    cpuMs: round(cpuMs),
    peakRssMiB: round(process.resourceUsage().maxRSS / 1024),
    notOk,
    hints: latencyHintsFrom(result),
  };
}

function latencies(findings: readonly Finding[], check?: Finding['check']): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  for (const f of findings) {
    const latency = f.facts.latencyMs;
    const key = `${f.check}\u0000${f.target}`;
    // A target with several problems has several findings with the same latency: count it once.
    if ((check === undefined || f.check === check) && typeof latency === 'number' && !seen.has(key)) {
      seen.add(key);
      out.push(latency);
    }
  }
  return out;
}

function slowest(findings: readonly Finding[], check: Finding['check']): number {
  return Math.max(0, ...latencies(findings, check));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function report(setup: Setup, runs: readonly RunFigures[]): ScenarioReport {
  const row = (metric: string, cell: (r: RunFigures) => string) => [metric, ...runs.map(cell)];
  const table = [
    row('', (r) => r.label),
    row('concurrency', (r) => String(r.concurrency)),
    row('probes', (r) => String(r.probed)),
    row('sweep wall time (ms)', (r) => r.wallMs.toFixed(1)),
    row('slowest HTTP probe (ms)', (r) => r.slowestHttpMs.toFixed(1)),
    row('slowest TLS probe (ms)', (r) => r.slowestTlsMs.toFixed(1)),
    row('median probe (ms)', (r) => r.medianProbeMs.toFixed(1)),
    row(
      `wall / slowest (goal <= ${setup.ratioGoal})`,
      (r) => `${r.ratio.toFixed(2)} ${r.ratioGoalMet ? 'met' : 'MISSED'}`,
    ),
    row(`wall / injected ${setup.slowDelayMs} ms delay`, (r) => r.wallOverDelay.toFixed(2)),
    row('findings ok', (r) => String(r.findings.ok)),
    row('findings warning', (r) => String(r.findings.warning)),
    row('findings critical', (r) => String(r.findings.critical)),
    row('check errors', (r) => String(r.errors)),
    row('event-loop delay p99 (ms)', (r) => r.loopDelayP99Ms.toFixed(1)),
    row('event-loop delay max (ms)', (r) => r.loopDelayMaxMs.toFixed(1)),
    row('CPU time in Reef (ms)', (r) => r.cpuMs.toFixed(1)),
    row('peak RSS so far (MiB)', (r) => r.peakRssMiB.toFixed(1)),
  ];
  const notes = [
    `Set-up: ${setup.httpEndpoints} HTTP endpoints (distinct paths over ${setup.httpServers} node:http servers), ` +
      `${setup.tlsEndpoints} TLS endpoints (one port each, private CA + leaf for IP:127.0.0.1, caFile set); ` +
      `${setup.httpEndpoints / setup.slowHttpEvery} HTTP answers and ${setup.tlsEndpoints / setup.slowTlsEvery} TLS handshakes ` +
      `delayed ${setup.slowDelayMs} ms; servers in a child process; HTTP retries 0 (the certificate check has no retries).`,
    'Peak RSS is process.resourceUsage().maxRSS of the bench process (tsx included), cumulative over the runs.',
    ...runs.flatMap((r) =>
      Object.entries(r.notOk).map(
        ([key, { count, example }]) => `${r.label}: ${count} x ${key}, e.g. ${example}`,
      ),
    ),
  ];
  return {
    table,
    notes,
    figures: {
      setup,
      runs,
      peakRssMiB: round(process.resourceUsage().maxRSS / 1024),
    },
  };
}
