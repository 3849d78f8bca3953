import type { Severity } from '../findings/finding.js';

/**
 * The time buckets of the errorLogs check and what it keeps about them: per-window counts, the current
 * window's distinct messages (numbers and ids masked so that similar lines group) and a few sample lines.
 * Memory is bounded whatever the log's size.
 */
export interface Windows {
  nowMs: number;
  windowMs: number;
  /** Windows before the current one that form the baseline. */
  baselineWindows: number;
}

/** The start of the oldest baseline window: lines before it do not count. */
export function windowsStart(w: Windows): number {
  return w.nowMs - (w.baselineWindows + 1) * w.windowMs;
}

/**
 * 0 for the current window (now - window, now], k for the k-th window before it, -1 before the baseline.
 * A line stamped after now counts as current: the log's host clock may run slightly ahead of Reef's.
 */
export function windowOf(w: Windows, ts: number): number {
  if (ts > w.nowMs) return 0;
  const k = Math.floor((w.nowMs - ts) / w.windowMs);
  return k > w.baselineWindows ? -1 : k;
}

const MAX_DISTINCT_MESSAGES = 1000;
const NON_ASCII = /[^\x20-\x7e\t]/;
const MAX_MESSAGE_CHARS = 200;
const MAX_SAMPLE_CHARS = 300;
const SAMPLES = 3;

export interface MessageCount {
  message: string;
  count: number;
}

export class SpikeTally {
  /** Matching entries per window: [current, previous, …]. */
  readonly counts: number[];
  private readonly messages = new Map<string, number>();
  /** Current-window matches whose message arrived after the distinct-message cap was reached. */
  private unlisted = 0;
  private readonly samples: { ts: number; line: string }[] = [];

  /**
   * @param display turns scanned text into what a person reads: the scan may run on Latin-1 decoded
   * bytes for speed (see log-scanner.ts), so only kept text pays for UTF-8 decoding.
   */
  constructor(
    private readonly windows: Windows,
    private readonly display: (text: string) => string = (text) => text,
  ) {
    this.counts = new Array<number>(windows.baselineWindows + 1).fill(0);
  }

  /**
   * Counts one matching entry stamped `ts` whose matching line is `s[start, end)`. `tsStart`/`tsEnd`
   * locate the timestamp inside that line (to leave it out of the message), or are -1.
   */
  add(ts: number, s: string, start: number, end: number, tsStart = -1, tsEnd = -1): void {
    const k = windowOf(this.windows, ts);
    if (k < 0) return;
    this.counts[k]!++;
    if (k !== 0) return;
    let text: string;
    if (tsStart >= start && tsEnd <= end) {
      // Leave out the timestamp with the brackets or quotes around it.
      let a = tsStart;
      let b = tsEnd;
      const before = s.charCodeAt(a - 1);
      const after = s.charCodeAt(b);
      if (a > start && ((before === 91 && after === 93) || (before === 34 && after === 34))) {
        a--;
        b++;
      }
      text = `${s.slice(start, a)} ${s.slice(b, Math.min(end, b + 2 * MAX_MESSAGE_CHARS))}`;
    } else {
      text = s.slice(start, Math.min(end, start + 2 * MAX_MESSAGE_CHARS));
    }
    // Decoding costs more than the rest; most log lines are ASCII and need none.
    const key = normaliseMessage(messageOf(NON_ASCII.test(text) ? this.display(text) : text));
    const seen = this.messages.get(key);
    if (seen !== undefined) this.messages.set(key, seen + 1);
    else if (this.messages.size < MAX_DISTINCT_MESSAGES) this.messages.set(key, 1);
    else this.unlisted++;
    this.keepSample(ts, s, start, end);
  }

  /** The `n` most frequent current-window messages, most frequent first. */
  topMessages(n = 5): MessageCount[] {
    return [...this.messages]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([message, count]) => ({ message: truncate(message, MAX_MESSAGE_CHARS), count }));
  }

  /** Matches in the current window not in any listed message (the distinct-message cap was reached). */
  get unlistedMatches(): number {
    return this.unlisted;
  }

  /** The latest matching lines of the current window, oldest first, each cut to a readable length. */
  sampleLines(): string[] {
    return [...this.samples]
      .sort((a, b) => a.ts - b.ts)
      .map((sample) => truncate(this.display(sample.line).trimEnd(), MAX_SAMPLE_CHARS));
  }

  private keepSample(ts: number, s: string, start: number, end: number): void {
    let slot = this.samples.length;
    if (slot >= SAMPLES) {
      slot = 0;
      for (let i = 1; i < SAMPLES; i++) if (this.samples[i]!.ts < this.samples[slot]!.ts) slot = i;
      // Of equal stamps the one read later wins: within a segment that is the later line.
      if (ts < this.samples[slot]!.ts) return;
    }
    this.samples[slot] = { ts, line: s.slice(start, Math.min(end, start + 2 * MAX_SAMPLE_CHARS)) };
  }
}

export interface SpikeVerdict {
  current: number;
  /** Mean of the usable baseline windows, or null with none (not enough history). */
  baseline: number | null;
  /** current / baseline; null when the baseline is 0 or unknown (JSON has no Infinity). */
  factor: number | null;
  spike: boolean;
  severity: Severity;
}

/**
 * Spike = current ≥ spikeFactor × baseline mean and current ≥ minCount (so 0 → 3 is not one; 0 → minCount
 * is). Critical = twice past both lines: current ≥ 2 × spikeFactor × baseline and ≥ 2 × minCount. The spike
 * factor is the operator's own line between a noisy hour and an abnormal one; doubling it again (6× normal
 * at the default 3) is far outside hour-to-hour variance and reads as an outage, not as noise. Doubling
 * minCount too keeps "0 → a dozen" a warning rather than a page.
 *
 * @param usable how many of the baseline windows (nearest first) the log covers; older ones are unknown,
 *   not zero: right after a log rotation they would otherwise make every hour look like a spike.
 */
export function judgeSpike(
  counts: readonly number[],
  usable: number,
  options: { spikeFactor: number; minCount: number },
): SpikeVerdict {
  const current = counts[0] ?? 0;
  if (usable < 1) return { current, baseline: null, factor: null, spike: false, severity: 'ok' };
  let sum = 0;
  for (let k = 1; k <= usable; k++) sum += counts[k] ?? 0;
  const baseline = sum / usable;
  const factor = baseline > 0 ? current / baseline : null;
  const { spikeFactor, minCount } = options;
  const spike = current >= minCount && current >= spikeFactor * baseline;
  const critical = spike && current >= 2 * minCount && current >= 2 * spikeFactor * baseline;
  return {
    current,
    baseline,
    factor,
    spike,
    severity: critical ? 'critical' : spike ? 'warning' : 'ok',
  };
}

/** The message of a JSON log line is its `msg`/`message` field; of any other line, the line. */
function messageOf(text: string): string {
  let lead = 0;
  while (lead < text.length && isLeadingSeparator(text.charCodeAt(lead))) lead++;
  const trimmed = lead === 0 ? text : text.slice(lead);
  if (trimmed.charCodeAt(0) !== 123) return trimmed;
  for (const key of ['"msg"', '"message"', '"error"']) {
    const at = trimmed.indexOf(key);
    if (at === -1) continue;
    let open = at + key.length;
    while (trimmed.charCodeAt(open) === 32) open++;
    if (trimmed.charCodeAt(open) !== 58) continue;
    open++;
    while (trimmed.charCodeAt(open) === 32) open++;
    if (trimmed.charCodeAt(open) !== 34) continue;
    let close = open + 1;
    while (close < trimmed.length && trimmed.charCodeAt(close) !== 34)
      close += trimmed.charCodeAt(close) === 92 ? 2 : 1;
    return trimmed.slice(open + 1, close);
  }
  return trimmed;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}(:\d+)?$/;
const IPV6 = /^[0-9a-f]*:[0-9a-f:]*:[0-9a-f]*$/i;
const HEX = /^(0x[0-9a-f]+|(?=[a-f]*\d)(?=\d*[a-f])[0-9a-f]{6,})$/i;

/**
 * Masks what varies between occurrences of the same problem, so they group: UUIDs → `<uuid>`, IPv4/IPv6
 * addresses → `<ip>`, hex ids → `<hex>`, quoted strings → `"…"`, other numbers → `<n>`; collapses runs of
 * white space. `ERROR user 42 from 10.0.0.7 failed: "bad token"` → `ERROR user <n> from <ip> failed: "…"`.
 */
export function normaliseMessage(text: string): string {
  const n = Math.min(text.length, 2 * MAX_MESSAGE_CHARS);
  let out = '';
  // Text is copied in runs, from `from` up to what needs replacing: most of a line is words and spaces.
  let from = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isTokenChar(c)) {
      let j = i;
      let digit = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (!isTokenChar(d)) break;
        if (d >= 48 && d <= 57) digit = true;
      }
      if (digit) {
        // A token's trailing `.`/`:`/`-` is punctuation (`id 5f3a9c.`), not part of the id.
        let k = j;
        while (k > i + 1 && isTrailingPunctuation(text.charCodeAt(k - 1))) k--;
        out += text.slice(from, i) + maskToken(text.slice(i, k));
        from = k;
      }
      i = j;
    } else if ((c === 34 || c === 39) && opensQuote(text, i)) {
      const close = text.indexOf(c === 34 ? '"' : "'", i + 1);
      if (close === -1 || close >= n) {
        i++;
        continue;
      }
      out += text.slice(from, i) + (c === 34 ? '"…"' : "'…'");
      i = from = close + 1;
    } else if (c <= 32 && (c !== 32 || text.charCodeAt(i + 1) <= 32)) {
      // A tab or a run of white space becomes one space.
      let j = i + 1;
      while (j < n && text.charCodeAt(j) <= 32) j++;
      out += `${text.slice(from, i)} `;
      i = from = j;
    } else {
      i++;
    }
  }
  out += text.slice(from, n);
  return (out.length > MAX_MESSAGE_CHARS ? out.slice(0, MAX_MESSAGE_CHARS) : out).trimEnd();
}

function maskToken(token: string): string {
  if (!/\d/.test(token)) return token;
  if (token.length === 36 && UUID.test(token)) return '<uuid>';
  if (IPV4.test(token)) return '<ip>';
  if (token.includes(':')) {
    if (IPV6.test(token) && (token.includes('::') || (/[a-f]/i.test(token) && token.split(':').length > 3)))
      return '<ip>';
    // `session:5f3a9c01`, `03:04:05`: mask each part.
    return token.split(':').map(maskToken).join(':');
  }
  if (HEX.test(token)) return '<hex>';
  return token.replace(/\d+/g, '<n>');
}

function opensQuote(text: string, i: number): boolean {
  if (i === 0) return true;
  const before = text.charCodeAt(i - 1);
  // `can't` is no quote: an opening quote follows a space or a delimiter.
  return before <= 32 || before === 61 || before === 58 || before === 40 || before === 91 || before === 44;
}

function isTokenChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95 ||
    c === 45 ||
    c === 46 ||
    c === 58
  );
}

/** White space, `|`, `:`, `,`, `-`: what is left before a message once its timestamp is cut out. */
function isLeadingSeparator(c: number): boolean {
  return c <= 32 || c === 124 || c === 58 || c === 44 || c === 45;
}

function isTrailingPunctuation(c: number): boolean {
  return c === 46 || c === 58 || c === 45;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
