import type { SpikeTally } from './log-spike.js';
import type { TimestampReader } from './log-timestamps.js';

/** A longer line is cut here (the rest is skipped), so one runaway line cannot exhaust memory. */
const MAX_LINE_BYTES = 1024 * 1024;
/** No further match in the block. */
const NONE = Number.POSITIVE_INFINITY;
/** Alternatives of characters that a regex reads as themselves (no escapes, classes or quantifiers). */
const LITERALS = /^[\w !"#%&',\-/:;<=>@~`]+(?:\|[\w !"#%&',\-/:;<=>@~`]+)*$/;

/**
 * The pattern, compiled for speed. One global, multiline regex runs over a whole block of lines and
 * finds candidate lines at the regex engine's speed; the lines in between cost a newline search and a
 * few character comparisons each. A candidate is re-tested on its own only when the match could depend
 * on its neighbours (it runs past the line's end, or the pattern has lookaround), so a matching line is
 * usually tested once.
 */
export class LogMatcher {
  /**
   * Scan Latin-1-decoded bytes: decoding is a plain copy and V8's regexes run fastest on one-byte
   * strings. Only when pattern and timestamp regex are ASCII, so that a non-ASCII byte never matches a
   * literal; kept text is re-decoded as UTF-8. What differs is how classes see non-ASCII text: a
   * multi-byte character is several `.`, and its byte 0xA0 is a `\s`. For "does this line match" that
   * is almost never visible; a pattern that depends on it can use a non-ASCII character to opt out.
   */
  readonly latin1: boolean;
  readonly scan: RegExp;
  readonly line: RegExp;
  readonly contextFree: boolean;
  /**
   * The alternatives of a pattern made only of literal text (`ERROR|FATAL`), found with `indexOf`, which
   * outruns the regex engine on them (measured: the search takes ~20 % less time).
   */
  readonly literals: readonly string[] | undefined;
  readonly literalBytes: readonly Buffer[] | undefined;

  constructor(pattern: string, timestampRegex?: string) {
    this.latin1 = isAscii(pattern) && (timestampRegex === undefined || isAscii(timestampRegex));
    this.scan = new RegExp(pattern, 'gm');
    this.line = new RegExp(pattern);
    this.contextFree = !/\(\?<?[=!]/.test(pattern);
    this.literals = LITERALS.test(pattern) ? pattern.split('|') : undefined;
    this.literalBytes = this.literals?.map((literal) => Buffer.from(literal, 'latin1'));
  }

  readonly display = (text: string): string =>
    this.latin1 ? Buffer.from(text, 'latin1').toString('utf8') : text;
}

/**
 * Reads one stretch of a log (a byte range of a file, or one pod's text) line by line, in bounded
 * memory, and counts every entry that matches into the shared tally. An entry is a timestamped line
 * plus the lines without a timestamp after it (a stack trace); it counts once, at its own timestamp,
 * whichever of its lines match.
 *
 * Files are read backwards in segments (see log-tail.ts), so a segment may start or end mid-line and
 * mid-entry: the partial first line (`fragment`), a matching line before the first timestamp
 * (`orphan`) and the open entry at the end (`adoptOrphan`) let the caller stitch segments together.
 */
export class LogScanner {
  lines = 0;
  /** Lines that start an entry (carry a recognised timestamp). */
  timestamps = 0;
  /** Lines that match the pattern (an entry with several counts once in the tally). */
  matchingLines = 0;
  bytes = 0;
  /** The first entry's timestamp: the oldest this segment reaches. */
  firstTs = Number.NaN;
  /** The bytes before the first newline, when told to skip a partial first line. */
  fragment: Buffer | undefined;
  /** The first matching line seen before any timestamp (it belongs to an entry in an earlier segment). */
  orphan: string | undefined;

  private skipFirst: boolean;
  private carry: Buffer | undefined;
  private hasHead = false;
  /** Where the current entry's first line is, until its timestamp is parsed. */
  private headText: string | undefined;
  private headStart = 0;
  private headEnd = 0;
  private headParsed = false;
  private headTs = Number.NaN;
  private headTsStart = -1;
  private headTsEnd = -1;
  private headCounted = false;
  private lastGoodTs = Number.NaN;
  private matchEnd = 0;
  /** Per literal, where it occurs next in the block (-1: nowhere; -2: not searched yet). */
  private readonly literalAt: number[];

  constructor(
    private readonly matcher: LogMatcher,
    private readonly reader: TimestampReader,
    private readonly tally: SpikeTally,
    options: { skipPartialFirstLine: boolean },
  ) {
    this.skipFirst = options.skipPartialFirstLine;
    this.literalAt = new Array<number>(matcher.literals?.length ?? 0).fill(-2);
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let from = 0;
    if (this.skipFirst) {
      const nl = chunk.indexOf(10);
      this.fragment = appendCapped(this.fragment, chunk.subarray(0, nl === -1 ? chunk.length : nl));
      if (nl === -1) return;
      this.skipFirst = false;
      from = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last < from) {
      if (from < chunk.length) this.carry = appendCapped(this.carry, chunk.subarray(from));
      return;
    }
    if (this.carry !== undefined) {
      const first = chunk.indexOf(10, from);
      this.scanBytes(appendCapped(this.carry, chunk.subarray(from, first)));
      this.carry = undefined;
      from = first + 1;
    }
    // The block keeps its final newline, so that an empty last line still counts as a line.
    if (from <= last) this.scanBytes(chunk, from, last + 1);
    // A copy: a view would pin the whole chunk until the next one arrives.
    if (last + 1 < chunk.length) this.carry = Buffer.from(chunk.subarray(last + 1));
  }

  /**
   * No more input. `rest` continues the last line (the `fragment` of the segment after this one); without
   * it an unterminated last line is still a line (a log being written).
   */
  end(rest?: Buffer): void {
    if (this.skipFirst) {
      // Not one newline in the whole segment: it is all the middle of one line.
      if (rest) this.fragment = appendCapped(this.fragment, rest);
    } else {
      const tail = rest ? appendCapped(this.carry, rest) : this.carry;
      if (tail !== undefined && tail.length > 0) this.scanBytes(tail);
    }
    this.carry = undefined;
    this.settle();
  }

  /** Scans text that is already a string (pod logs). */
  scanText(text: string): void {
    this.scanBlock(text);
    this.settle();
  }

  /** A matching line from the segment after this one, before that segment's first timestamp. */
  adoptOrphan(line: string): void {
    if (!this.hasHead) {
      this.orphan ??= line;
      return;
    }
    if (!this.headCounted) this.count(line, 0, line.length, false);
  }

  private scanBytes(buffer: Buffer, from = 0, to = buffer.length): void {
    // Latin-1: character i is byte i, so the per-line tests can read bytes (see scanBlock).
    if (this.matcher.latin1) this.scanBlock(buffer.toString('latin1', from, to), buffer.subarray(from, to));
    else this.scanBlock(buffer.toString('utf8', from, to));
  }

  /**
   * `bytes`, when given, holds `s` byte for character. The loop then reads bytes rather than characters:
   * once any object in the process has String.prototype as its prototype (ioredis's `VerbatimString
   * extends String` does), V8 stops inlining `charCodeAt` on strings (5× slower) and slows `indexOf`; with
   * ioredis loaded this loop took ~0.49 s per GB on strings, ~0.15 s on bytes.
   */
  private scanBlock(s: string, bytes?: Buffer): void {
    const n = s.length;
    const reader = this.reader;
    // The hot loop keeps its state in locals; the open entry moves into fields only when a match needs
    // it, and at the end of the block.
    let lines = 0;
    let heads = 0;
    let headPos = -1;
    let headEnd = -1;
    let wantFirst = Number.isNaN(this.firstTs);
    this.literalAt.fill(-2);
    let next = this.nextCandidate(s, 0, bytes);
    let pos = 0;
    while (pos < n) {
      let nl = bytes === undefined ? s.indexOf('\n', pos) : bytes.indexOf(10, pos);
      if (nl === -1) nl = n;
      lines++;
      // The time's two colons where the last line's format had them: its full shape costs ~80 ms more per
      // GB here, and a full parse of an earlier line confirmed the format.
      const colon = reader.colonAt;
      if (
        (colon > 0 &&
          nl - pos > colon + 3 &&
          (bytes === undefined
            ? s.charCodeAt(pos + colon) === 58 && s.charCodeAt(pos + colon + 3) === 58
            : bytes[pos + colon] === 58 && bytes[pos + colon + 3] === 58)) ||
        reader.isHead(s, pos, nl)
      ) {
        heads++;
        headPos = pos;
        headEnd = nl;
        if (wantFirst) {
          this.openEntry(s, headPos, headEnd);
          this.firstTs = this.parseHead();
          wantFirst = Number.isNaN(this.firstTs);
        }
      }
      if (next <= nl) {
        const end = nl > pos && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (this.matches(s, pos, end)) {
          this.matchingLines++;
          if (headPos >= 0) this.openEntry(s, headPos, headEnd);
          this.count(s, pos, end, headPos === pos);
        }
        next = this.nextCandidate(s, nl + 1, bytes);
      }
      pos = nl + 1;
    }
    this.lines += lines;
    this.timestamps += heads;
    if (headPos >= 0) this.openEntry(s, headPos, headEnd);
    // The block string is about to go: read the open entry's timestamp while it can still be read.
    this.settle();
  }

  private nextCandidate(s: string, from: number, bytes: Buffer | undefined): number {
    if (from >= s.length) return NONE;
    const literals = this.matcher.literals;
    if (literals !== undefined) {
      // Each literal is searched again only once the scan has passed where it was found.
      let best = NONE;
      for (let i = 0; i < literals.length; i++) {
        let at = this.literalAt[i]!;
        if (at < from && at !== -1) {
          at =
            bytes === undefined
              ? s.indexOf(literals[i]!, from)
              : bytes.indexOf(this.matcher.literalBytes![i]!, from);
          this.literalAt[i] = at;
        }
        if (at !== -1 && at < best) {
          best = at;
          this.matchEnd = at + literals[i]!.length;
        }
      }
      return best;
    }
    const scan = this.matcher.scan;
    scan.lastIndex = from;
    const match = scan.exec(s);
    if (match === null) return NONE;
    this.matchEnd = match.index + match[0].length;
    return match.index;
  }

  private matches(s: string, start: number, end: number): boolean {
    if (this.matchEnd <= end && this.matcher.contextFree) return true;
    return this.matcher.line.test(s.slice(start, end));
  }

  /** Makes `s[start, end)` the open entry, unless it already is. */
  private openEntry(s: string, start: number, end: number): void {
    if (this.headText === s && this.headStart === start) return;
    this.hasHead = true;
    this.headText = s;
    this.headStart = start;
    this.headEnd = end;
    this.headParsed = false;
    this.headCounted = false;
  }

  private parseHead(): number {
    if (this.headParsed || this.headText === undefined) return this.headTs;
    this.headParsed = true;
    this.headTs = this.reader.parse(this.headText, this.headStart, this.headEnd);
    const parsed = !Number.isNaN(this.headTs);
    this.headTsStart = parsed ? this.reader.start : -1;
    this.headTsEnd = parsed ? this.reader.end : -1;
    if (parsed) this.lastGoodTs = this.headTs;
    return this.headTs;
  }

  private settle(): void {
    if (this.hasHead) this.parseHead();
    this.headText = undefined;
  }

  private count(s: string, start: number, end: number, isHead: boolean): void {
    if (!this.hasHead) {
      this.orphan ??= s.slice(start, end);
      return;
    }
    if (this.headCounted) return;
    this.headCounted = true;
    let ts = this.parseHead();
    // A line that looked stamped but did not parse (`2026-13-45 …`) belongs with the entry before it.
    if (Number.isNaN(ts)) ts = this.lastGoodTs;
    if (Number.isNaN(ts)) return;
    if (isHead) this.tally.add(ts, s, start, end, this.headTsStart, this.headTsEnd);
    else this.tally.add(ts, s, start, end);
  }
}

function appendCapped(head: Buffer | undefined, more: Buffer): Buffer {
  if (head === undefined) return Buffer.from(more.subarray(0, MAX_LINE_BYTES));
  if (head.length >= MAX_LINE_BYTES) return head;
  return Buffer.concat([head, more.subarray(0, MAX_LINE_BYTES - head.length)]);
}

function isAscii(text: string): boolean {
  // In UTF-8, and only for ASCII text, every character is one byte.
  return Buffer.byteLength(text) === text.length;
}
