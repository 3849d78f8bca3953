/**
 * Recognises the timestamp of a log line: ISO-8601 (also `2026/11/28 03:04:05`, optionally in `[…]` or
 * after a syslog `<PRI>`), RFC 3164 syslog (`Nov 28 03:04:05`), klog (`I1128 03:04:05.123456`), JSON
 * (`"time"`, `"timestamp"`, `"ts"`, `"@timestamp"`), logfmt (`ts=`, `time=`), the common web log
 * (`[28/Nov/2026:03:04:05 +0100]`), an ISO timestamp near the start of the line, or a configured regex.
 *
 * Built for a scan of a gigabyte: lines are addressed by offsets into a larger string (no per-line
 * slices), and the format that matched last is tried first with a check of a few fixed characters, so a
 * log in one format costs a handful of comparisons per line.
 */
import {
  epochAt,
  isKlogLevel,
  isoAt,
  isoShape,
  klogAt,
  type ParseState,
  skipPrefix,
  syslogAt,
  webAt,
} from './log-timestamp-formats.js';

export interface TimestampOptions {
  /** Years are inferred relative to this (syslog and klog lines carry none). */
  nowMs: number;
  /** UTC offset, in minutes, of timestamps that carry no zone (the log's host's offset). */
  offsetMinutes: number;
  /** A regular expression whose first capture group is the timestamp; replaces the built-in formats. */
  regex?: string | undefined;
}

/** Index into the formats below; `as const` numbers so the hot path switches on a small integer. */
const F = {
  none: 0,
  iso: 1,
  syslog: 2,
  klog: 3,
  json: 4,
  logfmt: 5,
  web: 6,
  isoNearStart: 7,
} as const;
type Format = (typeof F)[keyof typeof F];

/** Tried in this order when the last format does not fit; the anchored, cheap ones first. */
const DETECT_ORDER: readonly Format[] = [F.iso, F.syslog, F.klog, F.json, F.logfmt, F.web, F.isoNearStart];

/** How far into a line an ISO timestamp may start and still be the line's own (`web-1 | 2026-…`). */
const NEAR_START_CHARS = 48;
const ISO_SEARCH = /\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:\d\d:\d\d/;

export class TimestampReader implements ParseState {
  /** Where, in the string, the timestamp found by the last successful `parse` starts and ends. */
  start = 0;
  end = 0;
  readonly nowMs: number;
  readonly offsetMs: number;
  hourKey = -1;
  hourMs = 0;
  /**
   * Where the sticky format has the first colon of its time (`2026-11-28T03:`, `Nov 28 03:`, `I1128 03:`)
   * when the line has no prefix, or 0: the scan loop's quick test for "this line starts an entry".
   */
  colonAt = 0;
  /** The format that fitted last; only anchored formats stick (see `detect`). */
  private sticky: Format = F.none;
  private readonly regex: RegExp | undefined;

  constructor(options: TimestampOptions) {
    this.nowMs = options.nowMs;
    this.offsetMs = options.offsetMinutes * 60_000;
    // `d`: the capture group's own indices, to strip exactly the timestamp from messages.
    this.regex = options.regex === undefined ? undefined : new RegExp(options.regex, 'd');
  }

  /**
   * Whether `s[start, end)` starts a new log entry, i.e. has a timestamp. Cheaper than `parse`: the last
   * format's fixed characters are compared without reading the numbers.
   */
  isHead(s: string, start: number, end: number): boolean {
    if (this.regex) return !Number.isNaN(this.parse(s, start, end));
    if (this.sticky !== F.none && this.quick(this.sticky, s, start, end)) return true;
    return !Number.isNaN(this.detect(s, start, end));
  }

  /** The timestamp of `s[start, end)` in epoch milliseconds, or NaN if it has none. */
  parse(s: string, start: number, end: number): number {
    if (this.regex) return this.parseCustom(s, start, end);
    if (this.sticky !== F.none) {
      const ms = this.parseAs(this.sticky, s, start, end);
      if (!Number.isNaN(ms)) return ms;
    }
    return this.detect(s, start, end);
  }

  /** Parses a bare timestamp text (a capture group, a JSON or logfmt value) in any known format. */
  parseText(s: string, from: number, to: number): number {
    let ms = isoAt(this, s, from, to);
    if (Number.isNaN(ms)) ms = syslogAt(this, s, from, to);
    if (Number.isNaN(ms)) ms = webAt(this, s, from, to);
    if (Number.isNaN(ms)) ms = klogAt(this, s, from, to);
    if (Number.isNaN(ms)) ms = epochAt(s, from, to);
    if (Number.isNaN(ms)) {
      // Date.parse reads RFC 2822 and friends, but also turns `Error 1` into 2001: ask for a year and a clock.
      const text = s.slice(from, to);
      if (text.includes(':') && /\d{4}/.test(text)) ms = Date.parse(text);
    }
    return ms;
  }

  private detect(s: string, start: number, end: number): number {
    for (const format of DETECT_ORDER) {
      const ms = this.parseAs(format, s, start, end);
      if (Number.isNaN(ms)) continue;
      // Only formats at a fixed place stick: an ISO date found mid-line in one stack-trace line must not
      // make every later line pay for a search.
      if (format <= F.klog) {
        this.sticky = format;
        this.colonAt = format === F.iso ? 13 : format === F.syslog ? 9 : 8;
      }
      return ms;
    }
    return Number.NaN;
  }

  private quick(format: Format, s: string, start: number, end: number): boolean {
    switch (format) {
      case F.iso:
        return isoShape(s, skipPrefix(s, start, end), end);
      case F.syslog: {
        const p = skipPrefix(s, start, end);
        if (end - p < 15) return false;
        const c = s.charCodeAt(p);
        return c >= 65 && c <= 90 && s.charCodeAt(p + 3) === 32 && s.charCodeAt(p + 9) === 58;
      }
      case F.klog:
        return (
          end - start >= 14 &&
          s.charCodeAt(start + 5) === 32 &&
          s.charCodeAt(start + 8) === 58 &&
          isKlogLevel(s, start)
        );
      default:
        return !Number.isNaN(this.parseAs(format, s, start, end));
    }
  }

  private parseAs(format: Format, s: string, start: number, end: number): number {
    switch (format) {
      case F.iso:
        return isoAt(this, s, skipPrefix(s, start, end), end);
      case F.syslog:
        return syslogAt(this, s, skipPrefix(s, start, end), end);
      case F.klog:
        return klogAt(this, s, start, end);
      case F.json:
        return s.charCodeAt(start) === 123 ? this.jsonIn(s, start, end) : Number.NaN;
      case F.logfmt:
        return this.logfmtIn(s, start, end);
      case F.web:
        return this.webIn(s, start, end);
      case F.isoNearStart:
        return this.isoNearStart(s, start, end);
      default:
        return Number.NaN;
    }
  }

  /** The common web log: `[28/Nov/2026:03:04:05 +0100]`, anywhere in the line (after the client). */
  private webIn(s: string, start: number, end: number): number {
    let open = start - 1;
    for (let tries = 0; tries < 3; tries++) {
      open = s.indexOf('[', open + 1);
      if (open === -1 || open >= end) return Number.NaN;
      const ms = webAt(this, s, open + 1, end);
      if (!Number.isNaN(ms)) return ms;
    }
    return Number.NaN;
  }

  /** A JSON object per line (bunyan, pino, zap, logrus, ECS): the first time-like key's value. */
  private jsonIn(s: string, start: number, end: number): number {
    // A slice keeps `indexOf` inside the line; the search would otherwise run on through the block.
    const line = s.slice(start, end);
    for (const key of ['"time"', '"timestamp"', '"ts"', '"@timestamp"']) {
      const at = line.indexOf(key);
      if (at === -1) continue;
      let q = at + key.length;
      while (line.charCodeAt(q) === 32) q++;
      if (line.charCodeAt(q) !== 58) continue;
      q++;
      while (line.charCodeAt(q) === 32) q++;
      const ms = this.valueAt(line, start, q, isValueEnd);
      if (!Number.isNaN(ms)) return ms;
    }
    return Number.NaN;
  }

  /** logfmt: `ts=…` or `time=…` (quoted or bare) at the start of the line or after a space. */
  private logfmtIn(s: string, start: number, end: number): number {
    const line = s.slice(start, end);
    for (const key of ['ts=', 'time=', 'timestamp=']) {
      let at = line.indexOf(key);
      while (at > 0 && line.charCodeAt(at - 1) !== 32) at = line.indexOf(key, at + 1);
      if (at === -1) continue;
      const ms = this.valueAt(line, start, at + key.length, (c) => c === 32);
      if (!Number.isNaN(ms)) return ms;
    }
    return Number.NaN;
  }

  /**
   * Parses the value starting at `q` in `line` (a slice beginning at `lineStart` in the block): quoted up
   * to the closing quote, bare up to `isBareEnd`. On success, remembers where the timestamp lies.
   */
  private valueAt(line: string, lineStart: number, q: number, isBareEnd: (code: number) => boolean): number {
    const quoted = line.charCodeAt(q) === 34;
    const from = quoted ? q + 1 : q;
    let to = from;
    while (to < line.length && !(quoted ? line.charCodeAt(to) === 34 : isBareEnd(line.charCodeAt(to)))) to++;
    const ms = this.parseText(line, from, to);
    if (!Number.isNaN(ms)) {
      this.start = lineStart + from;
      this.end = lineStart + to;
    }
    return ms;
  }

  /** An ISO timestamp after a short prefix: `web-1  | 2026-…`, Ruby's `I, [2026-…`. */
  private isoNearStart(s: string, start: number, end: number): number {
    const head = s.slice(start, Math.min(end, start + NEAR_START_CHARS + 19));
    const match = ISO_SEARCH.exec(head);
    if (!match || match.index > NEAR_START_CHARS) return Number.NaN;
    return isoAt(this, s, start + match.index, end);
  }

  private parseCustom(s: string, start: number, end: number): number {
    const span = this.regex!.exec(s.slice(start, end))?.indices?.[1];
    if (span === undefined) return Number.NaN;
    const from = start + span[0];
    const to = start + span[1];
    const ms = this.parseText(s, from, to);
    this.start = from;
    this.end = to;
    return ms;
  }
}

function isValueEnd(c: number): boolean {
  return c === 44 || c === 125 || c === 32;
}
