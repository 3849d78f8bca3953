import { ReefError } from '../errors.js';
import type { CheckMemory, CommandResult, HostPort } from './check.js';
import { LogMatcher, LogScanner } from './log-scanner.js';
import { SpikeTally, type Windows, windowsStart } from './log-spike.js';
import { TimestampReader } from './log-timestamps.js';

/**
 * `dd` block size. Segments start and end on multiples of it, so plain POSIX `skip=`/`count=` (in blocks)
 * address them on any host. `dd` rather than `tail -c`: GNU tail writes 4-8 KiB at a time, which halves
 * the throughput of a pipe (measured: 1 GB in ~0.9 s through tail, ~0.45 s through dd bs=64k).
 */
const BLOCK = 64 * 1024;
/** The first read when no earlier sweep has measured the log's rate; a small log is read whole. */
const FIRST_READ_BYTES = 1024 * 1024;
/** One step may grow the read at most this much, however fast the first segment suggests the log grows. */
const MAX_GROWTH = 16;
/** Read a little more than the rate suggests, so one step usually suffices. */
const HEADROOM = 1.25;
const RATE_TTL_MS = 7 * 86_400_000;

/** What one scan of a log saw. */
export interface LogScan {
  source: string;
  tally: SpikeTally;
  lines: number;
  timestamps: number;
  matchingLines: number;
  /** The oldest time the log covers when that is inside the baseline (a young or rotated log), else NaN. */
  coveredFromMs: number;
  /** Source-specific facts (bytes read, pods). */
  extra: Record<string, number>;
}

export interface TailTarget {
  name: string;
  host: string;
  path: string;
  pattern: string;
  timestampRegex?: string | undefined;
  timeoutMs: number;
}

/**
 * Scans the tail of a log file that covers the baseline, never the whole file unless it must: segments
 * are read backwards from the end (each one only once, newest first), growing geometrically (and by the
 * log's measured rate, remembered between sweeps) until the oldest timestamp read is older than the
 * baseline's start or the file's start is reached. Memory stays bounded: chunks are scanned as they
 * stream in. A file that shrinks while being read (rotated, truncated) is read again once.
 */
export async function scanLogTail(
  target: TailTarget,
  windows: Windows,
  ports: { hosts: HostPort; memory: CheckMemory },
): Promise<LogScan> {
  const source = `${target.host}:${target.path}`;
  const deadline = performance.now() + target.timeoutMs;
  const remaining = () => Math.max(1, Math.round(deadline - performance.now()));
  const exec = (argv: string[]) => ports.hosts.exec(target.host, argv, { timeoutMs: remaining() });
  // Zone-less timestamps (syslog, most ISO layouts) are the host's local time, so ask the host.
  const [sizeResult, zoneResult] = await Promise.all([
    exec(['wc', '-c', '--', target.path]),
    exec(['date', '+%z']),
  ]);
  const offsetMinutes = parseUtcOffset(zoneResult.code === 0 ? zoneResult.stdout : '');
  const rateKey = `errorLogs:bytesPerMs:${target.name}`;
  const rate = Number(await ports.memory.get(rateKey));
  const firstRead =
    Number.isFinite(rate) && rate > 0
      ? Math.max(BLOCK, rate * (windows.nowMs - windowsStart(windows)) * HEADROOM)
      : FIRST_READ_BYTES;
  let size = parseSize(sizeResult, target);
  for (let attempt = 0; ; attempt++) {
    const read = await readBackwards(target, windows, ports.hosts, {
      size,
      firstRead,
      offsetMinutes,
      remaining,
    });
    if (read !== 'shrank') {
      const { oldestMs, bytesRead, scan } = read;
      if (oldestMs < windows.nowMs && bytesRead > 0) {
        await ports.memory.set(rateKey, String(bytesRead / (windows.nowMs - oldestMs)), RATE_TTL_MS);
      }
      return { ...scan, extra: { ...scan.extra, utcOffsetMinutes: offsetMinutes } };
    }
    if (attempt >= 1) {
      throw new ReefError(
        'reef_check_failed',
        `log file ${source} shrank twice while being read (rotated or truncated); the next sweep will read it again`,
      );
    }
    size = parseSize(await exec(['wc', '-c', '--', target.path]), target);
  }
}

async function readBackwards(
  target: TailTarget,
  windows: Windows,
  hosts: HostPort,
  plan: { size: number; firstRead: number; offsetMinutes: number; remaining: () => number },
): Promise<{ scan: LogScan; oldestMs: number; bytesRead: number } | 'shrank'> {
  const source = `${target.host}:${target.path}`;
  const matcher = new LogMatcher(target.pattern, target.timestampRegex);
  const tally = new SpikeTally(windows, matcher.display);
  const reader = new TimestampReader({
    nowMs: windows.nowMs,
    offsetMinutes: plan.offsetMinutes,
    regex: target.timestampRegex,
  });
  const baselineStart = windowsStart(windows);
  const { size } = plan;
  const totals = { lines: 0, timestamps: 0, matchingLines: 0, bytes: 0 };
  let oldest = Number.NaN;
  let want = plan.firstRead;
  let end = size;
  let later: LogScanner | undefined;
  while (end > 0) {
    const start = Math.max(0, Math.floor((size - want) / BLOCK) * BLOCK);
    const scanner = new LogScanner(matcher, reader, tally, { skipPartialFirstLine: start > 0 });
    // Path and numbers are argv elements: nothing here passes through a shell. The newest segment is read
    // to the end of the file as it is now, lines appended since `wc` included.
    const argv = ['dd', `if=${target.path}`, `bs=${BLOCK}`, `skip=${start / BLOCK}`];
    if (end < size) argv.push(`count=${(end - start) / BLOCK}`);
    const result = await hosts.stream(target.host, argv, (chunk) => scanner.push(chunk), {
      timeoutMs: plan.remaining(),
    });
    if (result.code === null) throw timedOut(target);
    if (result.code !== 0) {
      throw new ReefError('reef_check_failed', `cannot read log file ${source}: ${firstLine(result.stderr)}`);
    }
    if (scanner.bytes < end - start) return 'shrank';
    // Each segment ends with the line the one after it (read before it) begins.
    scanner.end(later?.fragment);
    if (later?.orphan !== undefined) scanner.adoptOrphan(later.orphan);
    totals.lines += scanner.lines;
    totals.timestamps += scanner.timestamps;
    totals.matchingLines += scanner.matchingLines;
    totals.bytes += scanner.bytes;
    if (!Number.isNaN(scanner.firstTs)) oldest = scanner.firstTs;
    later = scanner;
    end = start;
    // No timestamp at all so far: reading further back cannot date these lines; the caller reports it.
    if (totals.timestamps === 0 || oldest <= baselineStart) break;
    want = nextRead(size - start, oldest, windows.nowMs, baselineStart);
  }
  const reachedStart = end === 0;
  return {
    oldestMs: oldest,
    bytesRead: totals.bytes,
    scan: {
      source,
      tally,
      ...totals,
      coveredFromMs: reachedStart && !(oldest <= baselineStart) ? oldest : Number.NaN,
      extra: { bytesRead: totals.bytes, fileBytes: size },
    },
  };
}

/** Doubles the tail read, or jumps to what the rate seen so far says the baseline needs (within reason). */
function nextRead(readSoFar: number, oldestMs: number, nowMs: number, baselineStart: number): number {
  let next = 2 * readSoFar;
  if (!Number.isNaN(oldestMs) && oldestMs < nowMs) {
    const needed = (readSoFar / (nowMs - oldestMs)) * (nowMs - baselineStart) * HEADROOM;
    next = Math.max(next, Math.min(MAX_GROWTH * readSoFar, needed));
  }
  return next;
}

function parseSize(result: CommandResult, target: TailTarget): number {
  const size = /^\s*(\d+)/.exec(result.stdout)?.[1];
  if (result.code === 0 && size !== undefined) return Number(size);
  if (result.code === null) throw timedOut(target);
  const why = firstLine(result.stderr) || `wc exited ${result.code}`;
  throw new ReefError('reef_check_failed', `cannot read log file ${target.host}:${target.path}: ${why}`);
}

function timedOut(target: TailTarget): ReefError {
  return new ReefError(
    'reef_check_failed',
    `reading log file ${target.host}:${target.path} took longer than its timeoutMs (${target.timeoutMs} ms); raise timeoutMs or shorten window × baselineWindows`,
  );
}

/** `+0530` → 330; anything unreadable → 0 (UTC). */
function parseUtcOffset(text: string): number {
  const match = /^([+-])(\d\d)(\d\d)$/.exec(text.trim());
  if (!match) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
