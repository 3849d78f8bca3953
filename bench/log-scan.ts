import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorLogsCheck } from '../src/checks/error-logs.js';
import { configSchema } from '../src/config/schema.js';
import type { Finding } from '../src/findings/finding.js';
import { createCheckContext } from '../src/runtime/check-context.js';
import type { Scenario, ScenarioReport } from './scenario.js';
import { generateLog } from './support/generate-log.js';

const SETUP = {
  hours: 8,
  /** Share of ERROR lines in the first seven hours, and in the last (the spike). */
  errorShare: 0.01,
  spikeErrorShare: 0.04,
  pattern: 'ERROR|FATAL',
  /** Scan time over `grep -cE` time on the same file. */
  ratioGoal: 2,
} as const;

interface Sizing {
  sizesMiB: readonly number[];
  /** Timed runs of grep and of the scan, per size. */
  runs: number;
}

const FULL: Sizing = { sizesMiB: [256, 1024], runs: 5 };
/**
 * `--quick`: two small files (still two sizes, so the memory comparison has its columns). Not below
 * ~32 MiB: a smaller file has too few lines per ten seconds for the 1 % baseline errors to appear, and its
 * finding would take the zero-baseline path instead of the spike-over-baseline one.
 */
const QUICK: Sizing = { sizesMiB: [32, 64], runs: 3 };

const END = Date.parse('2026-11-28T08:00:00.000Z');
const MIB = 1024 * 1024;

interface SizeFigures {
  sizeMiB: number;
  fileBytes: number;
  lines: number;
  generateMs: number;
  grepMs: { median: number; min: number; runs: number[] };
  scanMs: { median: number; min: number; runs: number[] };
  ratioMedian: number;
  ratioMin: number;
  ratioGoalMet: boolean;
  /** CPU seconds from /proc (Linux): Reef's process, its dd/wc/date children, and grep. */
  scanCpuMs: number | null;
  scanChildCpuMs: number | null;
  grepCpuMs: number | null;
  rssBeforeMiB: number;
  peakRssMiB: number;
  rssGrowthMiB: number;
  /** Peak RSS (maxRSS) of a fresh process that loads Reef and runs one scan of this file. */
  freshProcessPeakRssMiB: number;
  freshProcessRssBeforeScanMiB: number;
  bytesRead: number;
  grepCount: number;
  scanTotal: number;
  countsMatch: boolean;
  finding: { condition: string; severity: string; current: unknown; baseline: unknown; factor: unknown };
}

/**
 * The errorLogs check on a generated log through the local host port — `dd` streaming the tail into
 * Reef, as on an SSH host — against `grep -cE` with the same pattern on the same (page-cached) file.
 * The baseline covers the whole file (1h windows, 7 baseline windows, 8 hours of log), so the check
 * reads every byte, as grep does. Run at two sizes: the scan's memory must not grow with the file.
 */
export const logScanScenario: Scenario = {
  name: 'log-scan',
  description: `errorLogs spike scan of generated ${FULL.sizesMiB.join(' and ')} MiB logs vs grep -cE "${SETUP.pattern}"`,
  deadlineMs: 300_000,
  async run({ log, signal, quick }) {
    const sizing = quick ? QUICK : FULL;
    if (quick) log(`quick: ${sizing.sizesMiB.join(' and ')} MiB, ${sizing.runs} runs each`);
    const dir = await mkdtemp(path.join(tmpdir(), 'reef-bench-logs-'));
    const release = () => rm(dir, { recursive: true, force: true });
    signal.addEventListener('abort', () => void release(), { once: true });
    try {
      const sizes: SizeFigures[] = [];
      for (const sizeMiB of sizing.sizesMiB) {
        signal.throwIfAborted();
        const file = path.join(dir, `app-${sizeMiB}.log`);
        const t0 = performance.now();
        const lines = generateLog(file, { bytes: sizeMiB * MIB, endMs: END, ...SETUP });
        const generateMs = performance.now() - t0;
        const fileBytes = (await stat(file)).size;
        log(`${sizeMiB} MiB: ${lines} lines written in ${Math.round(generateMs)} ms`);
        // Warm the page cache for both contenders.
        const grepCount = (await grep(file)).count;
        const grepRuns: { ms: number; cpuMs: number | null }[] = [];
        const scanRuns: ScanRun[] = [];
        for (let run = 0; run < sizing.runs; run++) {
          signal.throwIfAborted();
          grepRuns.push(await grep(file));
          scanRuns.push(await scan(file));
          log(
            `${sizeMiB} MiB run ${run + 1}: grep ${ms(grepRuns.at(-1)!.ms)} ms, scan ${ms(scanRuns.at(-1)!.ms)} ms`,
          );
        }
        const fresh = await scanInFreshProcess(file);
        log(`${sizeMiB} MiB in a fresh process: peak RSS ${fresh.peakRssMiB.toFixed(1)} MiB`);
        await rm(file, { force: true });
        sizes.push({
          ...summarise(sizeMiB, fileBytes, lines, generateMs, grepCount, grepRuns, scanRuns),
          freshProcessPeakRssMiB: round(fresh.peakRssMiB),
          freshProcessRssBeforeScanMiB: round(fresh.rssBeforeMiB),
        });
      }
      return report(sizing, sizes);
    } finally {
      await release();
    }
  },
};

/** `grep -cE` with its output piped: GNU grep stops at the first match when stdout is /dev/null. */
function grep(file: string): Promise<{ ms: number; cpuMs: number | null; count: number }> {
  const cpu0 = childCpuMs();
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('grep', ['-cE', SETUP.pattern, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - t0;
      const cpu1 = childCpuMs();
      if (code !== 0) return reject(new Error(`grep exited ${code}`));
      resolve({ ms, cpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0, count: Number(out.trim()) });
    });
  });
}

interface ScanRun {
  ms: number;
  cpuMs: number;
  childCpuMs: number | null;
  rssBeforeMiB: number;
  peakRssMiB: number;
  finding: Finding;
}

async function scan(file: string): Promise<ScanRun> {
  const config = configSchema.parse({
    hosts: { self: { local: true } },
    checks: {
      errorLogs: [
        { name: 'bench', host: 'self', path: file, pattern: SETUP.pattern, window: '1h', baselineWindows: 7 },
      ],
    },
  });
  const target = config.checks.errorLogs[0]!;
  // A millisecond before END: the first line (END - 8h) is then inside the oldest baseline window.
  const { context, close } = createCheckContext(config, { clock: { now: () => new Date(END - 1) } });
  const rssBefore = process.memoryUsage.rss();
  let peak = rssBefore;
  // The scan yields between chunks, so a sampler sees its working set.
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const child0 = childCpuMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const [finding] = await errorLogsCheck.probe(target, context);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const child1 = childCpuMs();
    peak = Math.max(peak, process.memoryUsage.rss());
    return {
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      childCpuMs: child0 === null || child1 === null ? null : child1 - child0,
      rssBeforeMiB: rssBefore / MIB,
      peakRssMiB: peak / MIB,
      finding: finding!,
    };
  } finally {
    clearInterval(sampler);
    await close();
  }
}

/** CPU time of this process's waited-for children (Linux /proc), or null elsewhere. */
function childCpuMs(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    // After the command: state is field 3; cutime and cstime are fields 16 and 17, in clock ticks (100/s).
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

const CHILD_ENV = 'REEF_BENCH_LOG_SCAN_FILE';

/**
 * One scan in a new process (this file, run with tsx and the file in CHILD_ENV), whose maxRSS is the
 * scan's peak and nothing else's: the bench process has generated files and run earlier scans.
 */
function scanInFreshProcess(file: string): Promise<{ peakRssMiB: number; rssBeforeMiB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, [CHILD_ENV]: file },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) return reject(new Error(`fresh scan exited ${code}: ${out}`));
      resolve(JSON.parse(line) as { peakRssMiB: number; rssBeforeMiB: number });
    });
  });
}

if (process.env[CHILD_ENV] !== undefined) {
  const run = await scan(process.env[CHILD_ENV]);
  process.stdout.write(
    `${JSON.stringify({ peakRssMiB: process.resourceUsage().maxRSS / 1024, rssBeforeMiB: run.rssBeforeMiB })}\n`,
  );
  process.exit(0);
}

function summarise(
  sizeMiB: number,
  fileBytes: number,
  lines: number,
  generateMs: number,
  grepCount: number,
  grepRuns: readonly { ms: number; cpuMs: number | null }[],
  scanRuns: readonly ScanRun[],
): Omit<SizeFigures, 'freshProcessPeakRssMiB' | 'freshProcessRssBeforeScanMiB'> {
  const grepMs = stats(grepRuns.map((r) => r.ms));
  const scanMs = stats(scanRuns.map((r) => r.ms));
  const last = scanRuns.at(-1)!;
  const counts = last.finding.facts.windowCounts as number[];
  const scanTotal = counts.reduce((a, b) => a + b, 0);
  const median = <T>(values: readonly T[], key: (v: T) => number | null) => {
    const known = values.map(key).filter((v): v is number => v !== null);
    return known.length === 0 ? null : round(stats(known).median);
  };
  const ratioMedian = scanMs.median / grepMs.median;
  return {
    sizeMiB,
    fileBytes,
    lines,
    generateMs: round(generateMs),
    grepMs,
    scanMs,
    ratioMedian: round2(ratioMedian),
    ratioMin: round2(scanMs.min / grepMs.min),
    ratioGoalMet: ratioMedian <= SETUP.ratioGoal,
    scanCpuMs: median(scanRuns, (r) => r.cpuMs),
    scanChildCpuMs: median(scanRuns, (r) => r.childCpuMs),
    grepCpuMs: median(grepRuns, (r) => r.cpuMs),
    rssBeforeMiB: round(Math.max(...scanRuns.map((r) => r.rssBeforeMiB))),
    peakRssMiB: round(Math.max(...scanRuns.map((r) => r.peakRssMiB))),
    rssGrowthMiB: round(Math.max(...scanRuns.map((r) => r.peakRssMiB - r.rssBeforeMiB))),
    bytesRead: last.finding.facts.bytesRead as number,
    grepCount,
    scanTotal,
    countsMatch: scanTotal === grepCount,
    finding: {
      condition: last.finding.condition,
      severity: last.finding.severity,
      current: last.finding.facts.current ?? null,
      baseline: last.finding.facts.baseline ?? null,
      factor: last.finding.facts.factor ?? null,
    },
  };
}

function report(sizing: Sizing, sizes: readonly SizeFigures[]): ScenarioReport {
  const row = (metric: string, cell: (s: SizeFigures) => string) => [metric, ...sizes.map(cell)];
  const cpu = (v: number | null) => (v === null ? 'n/a' : String(v));
  const table = [
    row('', (s) => `${s.sizeMiB} MiB`),
    row('file bytes', (s) => String(s.fileBytes)),
    row('lines', (s) => String(s.lines)),
    row('generate (ms)', (s) => ms(s.generateMs)),
    row(`grep -cE wall, median of ${sizing.runs} (ms)`, (s) => ms(s.grepMs.median)),
    row(`scan wall, median of ${sizing.runs} (ms)`, (s) => ms(s.scanMs.median)),
    row(
      `scan / grep, median (goal <= ${SETUP.ratioGoal})`,
      (s) => `${s.ratioMedian.toFixed(2)} ${s.ratioGoalMet ? 'met' : 'MISSED'}`,
    ),
    row('scan / grep, best runs', (s) => s.ratioMin.toFixed(2)),
    row('grep CPU (ms)', (s) => cpu(s.grepCpuMs)),
    row('scan CPU, Reef process (ms)', (s) => cpu(s.scanCpuMs)),
    row('scan CPU, dd + wc + date (ms)', (s) => cpu(s.scanChildCpuMs)),
    row('RSS before scan (MiB)', (s) => s.rssBeforeMiB.toFixed(1)),
    row('peak RSS during scan (MiB)', (s) => s.peakRssMiB.toFixed(1)),
    row('RSS growth during scan (MiB)', (s) => s.rssGrowthMiB.toFixed(1)),
    row('fresh process: RSS before scan (MiB)', (s) => s.freshProcessRssBeforeScanMiB.toFixed(1)),
    row('fresh process: peak RSS, maxRSS (MiB)', (s) => s.freshProcessPeakRssMiB.toFixed(1)),
    row('bytes streamed', (s) => String(s.bytesRead)),
    row(
      'matches: grep / scan (all windows)',
      (s) => `${s.grepCount} / ${s.scanTotal}${s.countsMatch ? '' : ' MISMATCH'}`,
    ),
    row(
      'finding',
      (s) =>
        `${s.finding.severity} ${s.finding.condition} ${s.finding.current} vs ${s.finding.baseline}${s.finding.factor === null ? '' : ` (x${s.finding.factor})`}`,
    ),
  ];
  const notes = [
    `Set-up: ${SETUP.hours} hours of ISO-8601 lines, ${SETUP.errorShare * 100}% ERROR/FATAL, ${SETUP.spikeErrorShare * 100}% in the last hour; ` +
      'the check runs with window 1h and baselineWindows 7, so it reads the whole file; hosts: { self: { local: true } }; ' +
      'the file is in the page cache for both (grep ran first); grep output is piped (to /dev/null GNU grep stops at the first match).',
    'RSS is sampled every 5 ms during each scan; the bench process holds Reef with all its adapters loaded before the scan starts, ' +
      'so growth during the scan is the scan’s own working set. "Fresh process" runs one scan in a new node (tsx) process: its maxRSS ' +
      'is the whole process (Reef, adapters and tsx loaded) at its peak. CPU from /proc/self/stat (10 ms resolution).',
  ];
  const mismatched = sizes.filter((s) => !s.countsMatch);
  if (mismatched.length > 0) {
    notes.push(
      `COUNT MISMATCH at ${mismatched.map((s) => `${s.sizeMiB} MiB`).join(', ')}: the scan disagrees with grep.`,
    );
  }
  return { table, notes, figures: { setup: { ...SETUP, ...sizing }, sizes } };
}

function stats(values: readonly number[]): { median: number; min: number; runs: number[] } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: round(sorted[Math.floor(sorted.length / 2)]!),
    min: round(sorted[0]!),
    runs: values.map(round),
  };
}

function ms(n: number): string {
  return n.toFixed(0);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
