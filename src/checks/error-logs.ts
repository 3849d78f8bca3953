import type { ErrorLogTarget } from '../config/schema.js';
import { ReefError } from '../errors.js';
import { type Facts, type Finding, makeFinding } from '../findings/finding.js';
import { parseDuration } from '../util/duration.js';
import type { Check, CheckContext } from './check.js';
import { LogMatcher, LogScanner } from './log-scanner.js';
import { judgeSpike, SpikeTally, type Windows, windowsStart } from './log-spike.js';
import { type LogScan, scanLogTail } from './log-tail.js';
import { TimestampReader } from './log-timestamps.js';

/**
 * errorLogs check: counts the log entries matching `pattern` in the last `window` and in the
 * `baselineWindows` windows before it, dated by the log's own timestamps, from a file on a host (only the
 * tail covering the baseline is read) or from the pods matching a label selector. A spike is
 * `error-spike` (see `judgeSpike` for the thresholds), anything else an `ok` finding with the same facts:
 * `current`, `baseline` (mean of the baseline windows the log covers), `factor`, `windowCounts` (current
 * window first), the current window's `topMessages` (numbers and ids masked) and `samples`, `source`,
 * `linesScanned`, `timestampsFound`, and for files `bytesRead` of `fileBytes`.
 *
 * A log whose lines carry no timestamp Reef recognises is a check error, not a healthy target: it cannot
 * be judged until `timestampRegex` is set.
 */
export const errorLogsCheck: Check<ErrorLogTarget> = {
  kind: 'errorLogs',
  targets: (config) => config.checks.errorLogs,
  nameOf: (target) => target.name,
  async probe(target, context) {
    const now = context.clock.now();
    // The schema accepts only valid durations.
    const windowMs = parseDuration(target.window)!;
    const windows: Windows = { nowMs: now.getTime(), windowMs, baselineWindows: target.baselineWindows };
    const scan =
      target.host !== undefined && target.path !== undefined
        ? await scanLogTail({ ...target, host: target.host, path: target.path }, windows, context)
        : await scanPodLogs(target, windows, context);
    return [findingOf(target, windows, scan, now)];
  },
};

/**
 * Pod logs since the baseline's start, each pod scanned on its own (an entry never spans two pods).
 * Zone-less timestamps are read as UTC, the usual clock of a container. The log API gives the time the
 * logs cover, so the whole baseline counts as covered: a quiet pod had no errors, it did not lack history.
 */
async function scanPodLogs(
  target: ErrorLogTarget,
  windows: Windows,
  context: CheckContext,
): Promise<LogScan> {
  const { cluster, namespace, selector } = target as Required<
    Pick<ErrorLogTarget, 'cluster' | 'namespace' | 'selector'>
  >;
  const source = `${cluster}/${namespace}/${selector}`;
  const sinceSeconds = Math.ceil((windows.nowMs - windowsStart(windows)) / 1000);
  const pods = await withTimeout(
    context.kube.podLogs(cluster, namespace, selector, {
      sinceSeconds,
      // Kubernetes' own receive time on every line: pod logs often carry no timestamp of their own.
      timestamps: true,
      ...(target.container === undefined ? {} : { container: target.container }),
    }),
    target.timeoutMs,
    `reading the logs of ${source} took longer than ${target.timeoutMs} ms`,
  );
  if (pods.length === 0) {
    throw new ReefError(
      'reef_check_failed',
      `no pods match selector "${selector}" in ${cluster}/${namespace}: there are no logs to count (check the selector, or the pods check for why they are gone)`,
    );
  }
  const matcher = new LogMatcher(target.pattern, target.timestampRegex);
  // The texts are strings already: nothing to re-decode.
  const tally = new SpikeTally(windows);
  const reader = new TimestampReader({
    nowMs: windows.nowMs,
    offsetMinutes: 0,
    regex: target.timestampRegex,
  });
  const totals = { lines: 0, timestamps: 0, matchingLines: 0 };
  for (const { text } of pods) {
    const scanner = new LogScanner(matcher, reader, tally, { skipPartialFirstLine: false });
    scanner.scanText(text);
    totals.lines += scanner.lines;
    totals.timestamps += scanner.timestamps;
    totals.matchingLines += scanner.matchingLines;
  }
  return { source, tally, ...totals, coveredFromMs: Number.NaN, extra: { pods: pods.length } };
}

function findingOf(target: ErrorLogTarget, windows: Windows, scan: LogScan, now: Date): Finding {
  if (scan.lines > 0 && scan.timestamps === 0) {
    throw new ReefError(
      'reef_check_failed',
      target.timestampRegex === undefined
        ? `no timestamps recognised in the last ${scan.lines} lines of ${scan.source} — set timestampRegex (a regular expression whose first group captures the timestamp) on checks.errorLogs "${target.name}"`
        : `timestampRegex /${target.timestampRegex}/ found no timestamp in the last ${scan.lines} lines of ${scan.source} — fix it on checks.errorLogs "${target.name}" (its first group must capture the timestamp)`,
    );
  }
  const usable = usableWindows(windows, scan.coveredFromMs);
  const verdict = judgeSpike(scan.tally.counts, usable, target);
  const per = target.window;
  const facts: Facts = {
    source: scan.source,
    pattern: target.pattern,
    window: per,
    windowMs: windows.windowMs,
    current: verdict.current,
    baseline: verdict.baseline === null ? null : round(verdict.baseline),
    factor: verdict.factor === null ? null : round(verdict.factor),
    spikeFactor: target.spikeFactor,
    minCount: target.minCount,
    baselineWindows: usable,
    windowCounts: scan.tally.counts,
    topMessages: scan.tally.topMessages(5).map((m) => ({ message: m.message, count: m.count })),
    samples: scan.tally.sampleLines(),
    linesScanned: scan.lines,
    timestampsFound: scan.timestamps,
    matchingLines: scan.matchingLines,
    ...scan.extra,
  };
  if (scan.tally.unlistedMatches > 0) facts.unlistedMatches = scan.tally.unlistedMatches;
  if (!Number.isNaN(scan.coveredFromMs)) facts.coveredFrom = new Date(scan.coveredFromMs).toISOString();

  let summary: string;
  const current = `${verdict.current} ${verdict.current === 1 ? 'match' : 'matches'} in the last ${per}`;
  if (scan.lines === 0) {
    summary = 'the log is empty';
  } else if (verdict.baseline === null) {
    summary = `${current}; not enough history to judge a spike (the log goes back only to ${facts.coveredFrom}, the baseline needs ${target.baselineWindows} × ${per} before the last ${per})`;
  } else if (verdict.spike) {
    summary =
      verdict.factor === null
        ? `${current}, up from none in the ${usable} ${per} windows before`
        : `${current}, ${round(verdict.factor)}× the baseline of ${round(verdict.baseline)} per ${per}`;
  } else {
    const factor = verdict.factor === null ? '' : `, ×${round(verdict.factor)}`;
    summary = `${current} (baseline ${round(verdict.baseline)} per ${per}${factor}; a spike needs ×${target.spikeFactor} and at least ${target.minCount})`;
  }
  return makeFinding(
    {
      check: 'errorLogs',
      target: target.name,
      condition: verdict.spike ? 'error-spike' : 'ok',
      severity: verdict.severity,
      summary,
      facts,
    },
    now,
  );
}

/** Baseline windows (nearest first) that lie entirely after `coveredFromMs`; all of them when NaN. */
function usableWindows(windows: Windows, coveredFromMs: number): number {
  if (Number.isNaN(coveredFromMs)) return windows.baselineWindows;
  const whole = Math.floor((windows.nowMs - coveredFromMs) / windows.windowMs) - 1;
  return Math.max(0, Math.min(windows.baselineWindows, whole));
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReefError('reef_check_failed', message)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
