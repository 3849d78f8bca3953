/**
 * Parsers for timestamps of a fixed shape at a known position, working on offsets into a larger string
 * (no slices: the scan of a gigabyte calls them often). Each returns epoch milliseconds or NaN, and on
 * success records where the timestamp starts and ends in `st`.
 */
export interface ParseState {
  /** Years are inferred relative to this (syslog and klog lines carry none). */
  readonly nowMs: number;
  /** Applied to timestamps without a zone: the log's host's UTC offset. */
  readonly offsetMs: number;
  start: number;
  end: number;
  /** The last hour computed with Date.UTC (slow next to the rest) and its key: most lines share it. */
  hourKey: number;
  hourMs: number;
}

/** Epoch milliseconds of a UTC calendar hour, from the cache in `st` when it is the same hour again. */
function hourUtc(st: ParseState, year: number, month: number, day: number, hour: number): number {
  const key = ((year * 16 + month) * 32 + day) * 32 + hour;
  if (key !== st.hourKey) {
    st.hourKey = key;
    st.hourMs = Date.UTC(year, month - 1, day, hour);
  }
  return st.hourMs;
}

/** A syslog line dated up to this far in the future is this year's (clock skew), not last year's. */
const FUTURE_SLACK_MS = 7 * 86_400_000;
const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/** `2026-11-28T03:04:05.123+01:00`, `2026-11-28 03:04:05,123`, `2026/11/28 03:04:05`, zone optional. */
export function isoAt(st: ParseState, s: string, p: number, end: number): number {
  if (end - p < 19) return Number.NaN;
  const sep = s.charCodeAt(p + 4);
  if ((sep !== 45 && sep !== 47) || s.charCodeAt(p + 7) !== sep) return Number.NaN;
  const t = s.charCodeAt(p + 10);
  if ((t !== 84 && t !== 32) || s.charCodeAt(p + 13) !== 58 || s.charCodeAt(p + 16) !== 58) return Number.NaN;
  const year = digits(s, p, 4);
  const month = digits(s, p + 5, 2);
  const day = digits(s, p + 8, 2);
  const hour = digits(s, p + 11, 2);
  const minute = digits(s, p + 14, 2);
  const second = digits(s, p + 17, 2);
  if (year < 0 || !validClock(month, day, hour, minute, second)) return Number.NaN;
  let q = p + 19;
  let millis = 0;
  const dot = s.charCodeAt(q);
  if ((dot === 46 || dot === 44) && isDigit(s.charCodeAt(q + 1))) {
    q++;
    let scale = 100;
    while (q < end && isDigit(s.charCodeAt(q))) {
      millis += (s.charCodeAt(q) - 48) * scale;
      scale /= 10;
      q++;
    }
    millis = Math.floor(millis);
  }
  let offsetMs = st.offsetMs;
  const z = s.charCodeAt(q);
  if (z === 90) {
    offsetMs = 0;
    q++;
  } else {
    // `+01:00`, `+0100`, `+01`; also ` +0100` after a space (some Java layouts).
    const spaced = z === 32 && q + 5 < end;
    const sign = s.charCodeAt(spaced ? q + 1 : q);
    const at = spaced ? q + 2 : q + 1;
    const hh = sign === 43 || sign === 45 ? digits(s, at, 2) : -1;
    if (hh >= 0 && hh <= 14) {
      let r = at + 2;
      if (s.charCodeAt(r) === 58) r++;
      const mm = digits(s, r, 2);
      if (!spaced || mm >= 0) {
        offsetMs = (sign === 45 ? -1 : 1) * (hh * 60 + Math.max(mm, 0)) * 60_000;
        q = mm >= 0 ? r + 2 : at + 2;
      }
    }
  }
  st.start = p;
  st.end = q;
  return hourUtc(st, year, month, day, hour) + minute * 60_000 + second * 1000 + millis - offsetMs;
}

/** RFC 3164: `Nov 28 03:04:05` or `Nov  8 03:04:05`, local time, no year. */
export function syslogAt(st: ParseState, s: string, p: number, end: number): number {
  if (end - p < 15 || s.charCodeAt(p + 3) !== 32 || s.charCodeAt(p + 6) !== 32) return Number.NaN;
  const month = monthIndex(s, p);
  const day = s.charCodeAt(p + 4) === 32 ? digits(s, p + 5, 1) : digits(s, p + 4, 2);
  return yearless(st, month, day, s, p + 7, end, p);
}

/** klog/glog (Kubernetes components): `I1128 03:04:05.123456`, local time, no year. */
export function klogAt(st: ParseState, s: string, p: number, end: number): number {
  if (end - p < 14 || !isKlogLevel(s, p) || s.charCodeAt(p + 5) !== 32) return Number.NaN;
  return yearless(st, digits(s, p + 1, 2) - 1, digits(s, p + 3, 2), s, p + 6, end, p);
}

/** `HH:MM:SS[.fff]` at `t` on `month`/`day` of the latest year that is not in the future. */
function yearless(
  st: ParseState,
  month: number,
  day: number,
  s: string,
  t: number,
  end: number,
  from: number,
): number {
  if (month < 0 || month > 11 || end - t < 8) return Number.NaN;
  if (s.charCodeAt(t + 2) !== 58 || s.charCodeAt(t + 5) !== 58) return Number.NaN;
  const hour = digits(s, t, 2);
  const minute = digits(s, t + 3, 2);
  const second = digits(s, t + 6, 2);
  if (!validClock(month + 1, day, hour, minute, second)) return Number.NaN;
  let q = t + 8;
  let millis = 0;
  if (s.charCodeAt(q) === 46 && isDigit(s.charCodeAt(q + 1))) {
    millis = Math.max(digits(s, q + 1, 3), 0);
    q++;
    while (q < end && isDigit(s.charCodeAt(q))) q++;
  }
  // The latest of next, this and last year that is not ahead of now: on 1 January, `Dec 31 23:59:59`
  // is last year's; a host clock slightly ahead on 31 December may already write `Jan  1`.
  const year = new Date(st.nowMs + st.offsetMs).getUTCFullYear();
  for (const y of [year + 1, year, year - 1]) {
    const ms = hourUtc(st, y, month + 1, day, hour) + minute * 60_000 + second * 1000 + millis - st.offsetMs;
    if (ms <= st.nowMs + FUTURE_SLACK_MS) {
      st.start = from;
      st.end = q;
      return ms;
    }
  }
  return Number.NaN;
}

/** The common web log's `28/Nov/2026:03:04:05 +0100` (what its brackets hold). */
export function webAt(st: ParseState, s: string, p: number, end: number): number {
  if (end - p < 20 || s.charCodeAt(p + 2) !== 47 || s.charCodeAt(p + 6) !== 47) return Number.NaN;
  if (s.charCodeAt(p + 11) !== 58 || s.charCodeAt(p + 14) !== 58 || s.charCodeAt(p + 17) !== 58)
    return Number.NaN;
  const day = digits(s, p, 2);
  const month = monthIndex(s, p + 3) + 1;
  const year = digits(s, p + 7, 4);
  const hour = digits(s, p + 12, 2);
  const minute = digits(s, p + 15, 2);
  const second = digits(s, p + 18, 2);
  if (year < 0 || !validClock(month, day, hour, minute, second)) return Number.NaN;
  let offsetMs = st.offsetMs;
  let q = p + 20;
  const sign = s.charCodeAt(q + 1);
  const zone = digits(s, q + 2, 4);
  if (s.charCodeAt(q) === 32 && (sign === 43 || sign === 45) && zone >= 0) {
    offsetMs = (sign === 45 ? -1 : 1) * (Math.floor(zone / 100) * 60 + (zone % 100)) * 60_000;
    q += 6;
  }
  st.start = p;
  st.end = q;
  return hourUtc(st, year, month, day, hour) + minute * 60_000 + second * 1000 - offsetMs;
}

/** `dddd-dd-dd?dd:dd:dd` at `p`, judged by its separators. */
export function isoShape(s: string, p: number, end: number): boolean {
  if (end - p < 19) return false;
  const sep = s.charCodeAt(p + 4);
  return (
    (sep === 45 || sep === 47) &&
    s.charCodeAt(p + 7) === sep &&
    s.charCodeAt(p + 13) === 58 &&
    s.charCodeAt(p + 16) === 58 &&
    isDigit(s.charCodeAt(p))
  );
}

/** Skips what may precede a timestamp at the start of a line: `[` or a syslog `<PRI>` (and RFC 5424's `1 `). */
export function skipPrefix(s: string, start: number, end: number): number {
  const c = s.charCodeAt(start);
  if (c === 91) return start + 1;
  if (c !== 60) return start;
  let p = start + 1;
  while (p < end && p < start + 5 && isDigit(s.charCodeAt(p))) p++;
  if (s.charCodeAt(p) !== 62) return start;
  p++;
  if (s.charCodeAt(p) === 49 && s.charCodeAt(p + 1) === 32) p += 2;
  return p;
}

/** Epoch seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude. */
export function epochAt(s: string, from: number, to: number): number {
  if (to - from < 9 || !isDigit(s.charCodeAt(from))) return Number.NaN;
  const value = Number(s.slice(from, to));
  if (!Number.isFinite(value) || value < 1e9) return Number.NaN;
  if (value < 1e11) return Math.floor(value * 1000);
  if (value < 1e14) return Math.floor(value);
  if (value < 1e17) return Math.floor(value / 1000);
  return Math.floor(value / 1e6);
}

/** The decimal value of `count` digits at `at`, or -1. */
export function digits(s: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

export function monthIndex(s: string, at: number): number {
  const index = MONTHS.indexOf(s.slice(at, at + 3));
  return index % 3 === 0 ? index / 3 : -1;
}

export function validClock(
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): boolean {
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= 31 &&
    hour >= 0 &&
    hour <= 23 &&
    minute >= 0 &&
    minute <= 59 &&
    second >= 0 &&
    second <= 60
  );
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isKlogLevel(s: string, p: number): boolean {
  const c = s.charCodeAt(p);
  return (c === 73 || c === 87 || c === 69 || c === 70) && isDigit(s.charCodeAt(p + 1));
}
