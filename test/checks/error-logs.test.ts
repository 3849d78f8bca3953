import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostPort, PodLogsPort } from '../../src/checks/check.js';
import { errorLogsCheck } from '../../src/checks/error-logs.js';
import { normaliseMessage } from '../../src/checks/log-spike.js';
import { errorLogTargetSchema } from '../../src/config/schema.js';
import type { Finding } from '../../src/findings/finding.js';
import {
  entries,
  HOUR,
  klogStamp,
  type LineFormat,
  localIso,
  MINUTE,
  render,
  seeded,
  syslogStamp,
  webStamp,
  zone,
} from '../fixtures/logs/log-builder.js';
import { runCli } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { FakeClock } from '../helpers/fake-clock.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
/** 30 errors in the last hour over 10 in each of the six before: exactly the default 3× spike. */
const SPIKE = [30, 10, 10, 10, 10, 10, 10];
const iso = (ms: number) => new Date(ms).toISOString();
const word = (level: 'error' | 'info') => (level === 'error' ? 'ERROR' : 'INFO');

/** Log formats Reef must date without help, each with a pattern that picks its error lines. */
const FORMATS: { name: string; line: LineFormat; pattern: string; timestampRegex?: string }[] = [
  { name: 'ISO-8601 UTC', pattern: 'ERROR', line: (ms, l, n) => `${iso(ms)} ${word(l)} order ${n} failed` },
  {
    name: 'ISO-8601 with a +01:00 offset',
    pattern: 'ERROR',
    line: (ms, l, n) => `${localIso(ms, 60)}${zone(60, true)} ${word(l)} order ${n}`,
  },
  {
    name: 'ISO-8601 with a -0500 offset, no fraction',
    pattern: 'ERROR',
    line: (ms, l) => `${localIso(ms, -300).slice(0, 19)}${zone(-300, false)} ${word(l)} x`,
  },
  {
    name: 'ISO-8601 without zone, comma fraction (log4j; host clock in UTC)',
    pattern: 'ERROR',
    line: (ms, l) => `${localIso(ms, 0, ' ').replace('.', ',')} ${word(l)} [main] c.e.Service - boom`,
  },
  {
    name: 'Go / nginx error log 2026/11/28 12:00:00',
    pattern: '\\[error\\]',
    line: (ms, l, n) =>
      `${localIso(ms).slice(0, 19).replaceAll('-', '/').replace('T', ' ')} [${l}] ${n}#0: *1 upstream`,
  },
  {
    name: 'bracketed ISO [2026-11-28 12:00:00]',
    pattern: 'ERROR',
    line: (ms, l) => `[${localIso(ms, 0, ' ').slice(0, 19)}] app.${word(l)}: x`,
  },
  {
    name: 'RFC 3164 syslog',
    pattern: 'ERROR',
    line: (ms, l, n) => `${syslogStamp(ms)} web-1 app[${n}]: ${word(l)} request failed`,
  },
  {
    name: 'RFC 5424 syslog',
    pattern: 'ERROR',
    line: (ms, l) => `<11>1 ${iso(ms)} web-1 app 42 - - ${word(l)} x`,
  },
  {
    name: 'common web log (Apache/nginx access)',
    pattern: '" 5\\d\\d ',
    line: (ms, l, n) =>
      `10.0.${n % 256}.7 - - [${webStamp(ms, 60)}] "GET /orders/${n} HTTP/1.1" ${l === 'error' ? 503 : 200} 512`,
  },
  {
    name: 'JSON with an ISO "time"',
    pattern: '"level":"error"',
    line: (ms, l, n) => `{"time":"${iso(ms)}","level":"${l}","msg":"order ${n} failed"}`,
  },
  {
    name: 'JSON with epoch milliseconds (pino)',
    pattern: '"level":50',
    line: (ms, l) => `{"level":${l === 'error' ? 50 : 30},"time":${ms},"pid":7,"msg":"x"}`,
  },
  {
    name: 'JSON with epoch seconds "ts" (zap)',
    pattern: '"level":"error"',
    line: (ms, l) => `{"level":"${l}","ts":${ms / 1000},"caller":"main.go:1","msg":"x"}`,
  },
  {
    name: 'logfmt ts=',
    pattern: 'level=error',
    line: (ms, l, n) => `level=${l} ts=${iso(ms)} caller=main.go:${n} msg="x"`,
  },
  {
    name: 'logfmt time="…" quoted',
    pattern: 'level=error',
    line: (ms, l) => `time="${iso(ms)}" level=${l} msg="x"`,
  },
  {
    name: 'klog (Kubernetes components)',
    pattern: '^E\\d{4}',
    line: (ms, l, n) => `${klogStamp(ms, l)}       1 controller.go:${n}] sync failed`,
  },
  {
    name: 'ISO after a short prefix (docker compose)',
    pattern: 'ERROR',
    line: (ms, l) => `api-1  | ${iso(ms)} ${word(l)} x`,
  },
  {
    name: 'custom timestampRegex (epoch seconds after @)',
    pattern: 'ERROR',
    timestampRegex: 'app@(\\d+)',
    line: (ms, l) => `app@${Math.floor(ms / 1000)} ${word(l)} x`,
  },
];

describe('errorLogs check (real files through the local host port)', () => {
  let dir: string;
  const savedTz = process.env.TZ;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'reef-logs-'));
    // Zone-less timestamps are read in the host's offset (`date +%z`); the local host inherits ours.
    process.env.TZ = 'UTC';
  });
  afterAll(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
    rmSync(dir, { recursive: true, force: true });
  });

  const writeLog = (name: string, text: string | Buffer) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  interface ProbeOptions {
    now?: number;
    hosts?: (real: HostPort) => HostPort;
    podLogs?: PodLogsPort['podLogs'];
    memory?: Record<string, string>;
  }

  async function probe(fields: Record<string, unknown>, options: ProbeOptions = {}): Promise<Finding> {
    const target = errorLogTargetSchema.parse({ name: 'app-log', pattern: 'ERROR', ...fields });
    const context = testContext({ config: { hosts: { self: { local: true } } } });
    context.clock = new FakeClock(iso(options.now ?? NOW));
    if (options.hosts) context.hosts = options.hosts(context.hosts);
    if (options.podLogs) context.kube = Object.assign(context.kube, { podLogs: options.podLogs });
    for (const [key, value] of Object.entries(options.memory ?? {}))
      await context.memory.set(key, value, HOUR);
    try {
      const findings = await errorLogsCheck.probe(target, context);
      expect(findings).toHaveLength(1);
      return findings[0]!;
    } finally {
      await context.close();
    }
  }
  const probeFile = (file: string, fields: Record<string, unknown> = {}, options: ProbeOptions = {}) =>
    probe({ host: 'self', path: file, ...fields }, options);

  /** Wraps the real host port, counting the bytes `stream` hands over and recording every argv. */
  const counting = () => {
    const seen = { streamed: 0, commands: [] as string[][] };
    const wrap = (real: HostPort): HostPort => ({
      exec: (host, argv, o) => {
        seen.commands.push([...argv]);
        return real.exec(host, argv, o);
      },
      stream: (host, argv, onStdout, o) => {
        seen.commands.push([...argv]);
        const count = (chunk: Buffer) => {
          seen.streamed += chunk.length;
          onStdout(chunk);
        };
        return real.stream(host, argv, count, o);
      },
    });
    return { seen, wrap };
  };

  describe('timestamp formats', () => {
    it.each(FORMATS)('$name: a 3× spike is found', async ({ name, line, pattern, timestampRegex }) => {
      const file = writeLog(`${name.replace(/\W+/g, '-')}.log`, render(line, entries(NOW, SPIKE)));
      const finding = await probeFile(file, { pattern, ...(timestampRegex ? { timestampRegex } : {}) });
      expect(finding).toMatchObject({
        check: 'errorLogs',
        target: 'app-log',
        condition: 'error-spike',
        severity: 'warning',
      });
      expect(finding.facts).toMatchObject({ current: 30, baseline: 10, factor: 3, windowMs: HOUR });
      expect(finding.facts.windowCounts).toEqual(SPIKE);
      expect(finding.facts.timestampsFound).toBe(finding.facts.linesScanned);
    });

    it('zone-less timestamps are read in the host’s UTC offset (date +%z)', async () => {
      process.env.TZ = 'Asia/Kolkata';
      try {
        const line: LineFormat = (ms, l) => `${localIso(ms, 330, ' ')} ${word(l)} x`;
        const syslog: LineFormat = (ms, l) => `${syslogStamp(ms, 330)} host app: ${word(l)} x`;
        for (const [name, format] of [
          ['kolkata-iso.log', line],
          ['kolkata-syslog.log', syslog],
        ] as const) {
          const finding = await probeFile(writeLog(name, render(format, entries(NOW, SPIKE))));
          expect(finding.facts).toMatchObject({ current: 30, baseline: 10, utcOffsetMinutes: 330 });
        }
      } finally {
        process.env.TZ = 'UTC';
      }
    });

    it('syslog lines without a year across New Year belong to the old year', async () => {
      const newYear = Date.parse('2027-01-01T00:30:00Z');
      const text = render((ms, l) => `${syslogStamp(ms)} host app: ${word(l)} x`, entries(newYear, SPIKE));
      expect(text).toMatch(/^Dec 31 /);
      expect(text).toMatch(/\nJan {2}1 00:/);
      const finding = await probeFile(writeLog('new-year.log', text), {}, { now: newYear });
      expect(finding.facts.windowCounts).toEqual(SPIKE);
    });
  });

  describe('spike rule', () => {
    // The first line, from before the baseline, shows the log covers it: windows without errors had none.
    const spikeOf = async (perWindow: number[]) => {
      const text = `${iso(NOW - 8 * HOUR)} INFO started\n${render((ms, l) => `${iso(ms)} ${word(l)} x`, entries(NOW, perWindow))}`;
      return probeFile(writeLog(`rule-${perWindow.join('-')}.log`, text));
    };

    it('3× the baseline is a spike (warning), with the counts in the facts', async () => {
      const finding = await spikeOf(SPIKE);
      expect(finding.condition).toBe('error-spike');
      expect(finding.severity).toBe('warning');
      expect(finding.summary).toBe('30 matches in the last 1h, 3× the baseline of 10 per 1h');
    });

    it('2.5× is not a spike: an ok finding that still reports the counts', async () => {
      const finding = await spikeOf([25, 10, 10, 10, 10, 10, 10]);
      expect(finding).toMatchObject({ condition: 'ok', severity: 'ok' });
      expect(finding.facts).toMatchObject({ current: 25, baseline: 10, factor: 2.5 });
      expect(finding.summary).toMatch(/25 matches in the last 1h \(baseline 10 per 1h, ×2.5/);
    });

    it('0 → 3 is no spike (below minCount); 0 → 12 is one, with no factor', async () => {
      const few = await spikeOf([3, 0, 0, 0, 0, 0, 0]);
      expect(few).toMatchObject({ condition: 'ok', severity: 'ok' });
      expect(few.facts).toMatchObject({ current: 3, baseline: 0, factor: null });
      const many = await spikeOf([12, 0, 0, 0, 0, 0, 0]);
      expect(many).toMatchObject({ condition: 'error-spike', severity: 'warning' });
      expect(many.facts).toMatchObject({ current: 12, baseline: 0, factor: null });
      expect(many.summary).toBe('12 matches in the last 1h, up from none in the 6 1h windows before');
    });

    it('twice past both lines (≥ 2 × spikeFactor × baseline and ≥ 2 × minCount) is critical', async () => {
      expect((await spikeOf([60, 10, 10, 10, 10, 10, 10])).severity).toBe('critical');
      expect((await spikeOf([59, 10, 10, 10, 10, 10, 10])).severity).toBe('warning');
      expect((await spikeOf([20, 0, 0, 0, 0, 0, 0])).severity).toBe('critical');
    });

    it('honours window, baselineWindows, spikeFactor and minCount', async () => {
      const file = writeLog(
        'tuned.log',
        render((ms, l) => `${iso(ms)} ${word(l)} x`, entries(NOW, [8, 4, 4, 4], 1, 15 * MINUTE)),
      );
      const finding = await probeFile(file, {
        window: '15m',
        baselineWindows: 3,
        spikeFactor: 2,
        minCount: 5,
      });
      expect(finding).toMatchObject({ condition: 'error-spike', severity: 'warning' });
      expect(finding.facts).toMatchObject({ current: 8, baseline: 4, windowMs: 15 * MINUTE });
      expect(finding.facts.windowCounts).toEqual([8, 4, 4, 4]);
    });
  });

  describe('log entries', () => {
    it('lines without a timestamp belong to the entry before; an entry counts once', async () => {
      const t = (minutesAgo: number) => iso(NOW - minutesAgo * MINUTE);
      const text = [
        `${t(200)} ERROR request failed`, // window 3, and its trace matches again: still 1
        'java.lang.IllegalStateException: ERROR boom',
        '\tat com.example.Orders.place(Orders.java:42)',
        `${t(150)} INFO retrying`, // window 2: only its trace line matches
        'Caused by: java.io.IOException: connection reset',
        '\tat com.example.Db.query(Db.java:7)',
        `${t(30)} INFO all good`, // window 0: no line matches
        '\tat com.example.Noise.run(Noise.java:1)',
        `${t(20)} WARN slow`, // window 0, matched on its second continuation line
        '\tat com.example.Slow.run(Slow.java:1)',
        '\tat com.example.Exception.handler(Exception.java:9)',
      ].join('\n');
      const finding = await probeFile(writeLog('traces.log', text), { pattern: 'ERROR|Exception' });
      expect(finding.facts.windowCounts).toEqual([1, 0, 1, 1, 0, 0, 0]);
      expect(finding.facts).toMatchObject({ linesScanned: 11, timestampsFound: 4, matchingLines: 4 });
      expect(finding.facts.topMessages).toEqual([
        { message: 'at com.example.Exception.handler(Exception.java:<n>)', count: 1 },
      ]);
    });

    it('reads CRLF logs: `$` matches before the carriage return, which no message or sample keeps', async () => {
      // Each line ends in `\r`, and `render` adds the `\n`.
      const text = render((ms, l) => `${iso(ms)} ${word(l)} request failed: ERROR\r`, entries(NOW, SPIKE, 0));
      const finding = await probeFile(writeLog('crlf.log', text), { pattern: 'ERROR$' });
      expect(finding.facts.windowCounts).toEqual(SPIKE);
      expect(finding.facts.topMessages).toEqual([{ message: 'ERROR request failed: ERROR', count: 30 }]);
      expect((finding.facts.samples as string[]).every((line) => !line.includes('\r'))).toBe(true);
    });

    it('groups the top 5 messages with numbers, hex ids, UUIDs, IPs and quoted strings masked', async () => {
      const rand = seeded(7);
      const int = (max: number) => Math.floor(rand() * max);
      const hex = () => int(0xffffffff).toString(16).padStart(8, 'a');
      const uuid = () =>
        `${hex()}-${hex().slice(0, 4)}-4${hex().slice(0, 3)}-a${hex().slice(0, 3)}-${hex()}${hex().slice(0, 4)}`;
      const kinds: [number, () => string][] = [
        [
          9,
          () =>
            `ERROR payment ${uuid()} declined for user ${int(1e6)} from 10.0.${int(255)}.3:443: "card ${hex()}"`,
        ],
        [7, () => `ERROR cache miss key=session:${hex()} after ${int(900)}ms`],
        [5, () => `ERROR upstream fe80::1:${int(99)} reset`],
        [4, () => `ERROR disk /dev/sda at 0x${hex()} failed`],
        [3, () => `ERROR job 'nightly-${int(9)}' can't start`],
        [2, () => 'ERROR something rare'],
      ];
      const lines: string[] = [];
      let minute = 1;
      for (const [count, make] of kinds) {
        for (let i = 0; i < count; i++) lines.push(`${iso(NOW - minute++ * MINUTE)} ${make()}`);
      }
      const finding = await probeFile(writeLog('messages.log', lines.reverse().join('\n')));
      expect(finding.facts.topMessages).toEqual([
        { message: 'ERROR payment <uuid> declined for user <n> from <ip>: "…"', count: 9 },
        { message: 'ERROR cache miss key=session:<hex> after <n>ms', count: 7 },
        { message: 'ERROR upstream <ip> reset', count: 5 },
        { message: 'ERROR disk /dev/sda at <hex> failed', count: 4 },
        { message: "ERROR job '…' can't start", count: 3 },
      ]);
      const samples = finding.facts.samples as string[];
      // The latest three, whole lines with their timestamps, oldest first.
      expect(samples).toEqual(lines.slice(-3));
    });

    it('normaliseMessage keeps words and masks what varies', () => {
      expect(normaliseMessage('ERROR user 42 from 10.0.0.7 failed: "bad token"')).toBe(
        'ERROR user <n> from <ip> failed: "…"',
      );
      expect(normaliseMessage('id=123e4567-e89b-12d3-a456-426614174000 v2 took 12.5ms at 0xdeadbeef')).toBe(
        'id=<uuid> v<n> took <n>.<n>ms at <hex>',
      );
      expect(normaliseMessage("it can't   be   'x'")).toBe("it can't be '…'");
    });
  });

  describe('reading only the tail', () => {
    it('a 40 MB file: only the tail covering the baseline is streamed', async () => {
      const old = `${iso(NOW - 30 * 24 * HOUR)} INFO ${'old line padding '.repeat(4)}\n`.repeat(600_000);
      const recent = render((ms, l) => `${iso(ms)} ${word(l)} order failed`, entries(NOW, SPIKE, 20));
      const file = writeLog('huge.log', old + recent);
      const size = statSync(file).size;
      expect(size).toBeGreaterThan(40_000_000);
      const port = counting();
      const finding = await probeFile(file, {}, { hosts: port.wrap });
      expect(finding.facts).toMatchObject({ current: 30, baseline: 10, fileBytes: size });
      expect(port.seen.streamed).toBe(finding.facts.bytesRead);
      expect(port.seen.streamed).toBeLessThan(size / 20);
      expect(port.seen.commands.filter((c) => c[0] === 'dd').length).toBeGreaterThanOrEqual(1);
    });
  });

  describe('files that cannot be judged, or not yet', () => {
    it('a log with no timestamps is a check error that says to set timestampRegex', async () => {
      const file = writeLog('plain.log', 'starting\nERROR no clock here\nERROR nor here\n'.repeat(50));
      await expect(probeFile(file)).rejects.toThrow(
        `no timestamps recognised in the last 150 lines of self:${file} — set timestampRegex`,
      );
    });

    it('a timestampRegex that finds nothing is a check error naming the regex', async () => {
      const file = writeLog(
        'wrong-regex.log',
        render((ms, l) => `${iso(ms)} ${word(l)} x`, entries(NOW, SPIKE)),
      );
      await expect(probeFile(file, { timestampRegex: '^@(\\d+)' })).rejects.toThrow(
        /timestampRegex \/\^@\(\\d\+\)\/ found no timestamp in the last \d+ lines of self:/,
      );
    });

    it('a missing file is a check error naming host and path', async () => {
      const file = path.join(dir, 'missing.log');
      await expect(probeFile(file)).rejects.toThrow(`cannot read log file self:${file}: `);
      await expect(probeFile(file)).rejects.toThrow(/No such file or directory/);
    });

    it('an empty file is ok: nothing matched', async () => {
      const finding = await probeFile(writeLog('empty.log', ''));
      expect(finding).toMatchObject({ condition: 'ok', severity: 'ok', summary: 'the log is empty' });
      expect(finding.facts).toMatchObject({ current: 0, linesScanned: 0 });
    });

    it('a path with shell metacharacters is one argv element, never shell code', async () => {
      const file = writeLog(
        'a;b $(x).log',
        render((ms, l) => `${iso(ms)} ${word(l)} x`, entries(NOW, SPIKE)),
      );
      const port = counting();
      const finding = await probeFile(file, {}, { hosts: port.wrap });
      expect(finding.facts).toMatchObject({ current: 30, source: `self:${file}` });
      expect(port.seen.commands).toContainEqual(['wc', '-c', '--', file]);
      expect(port.seen.commands.some((argv) => argv.includes(`if=${file}`))).toBe(true);
    });

    it('a young (just rotated) log judges only the windows it covers', async () => {
      const lines = (since: number, perWindow: number[]) =>
        render(
          (ms, l) => `${iso(ms)} ${word(l)} x`,
          entries(NOW, perWindow).filter((e) => e.ms >= since),
        );
      // Rotated 90 minutes ago: no whole window before the current one, so no verdict, however many errors.
      const young = await probeFile(writeLog('young.log', lines(NOW - 90 * MINUTE, [50, 10])));
      expect(young).toMatchObject({ condition: 'ok', severity: 'ok' });
      expect(young.facts).toMatchObject({ current: 50, baseline: null, baselineWindows: 0 });
      expect(young.summary).toMatch(
        /not enough history to judge a spike \(the log goes back only to 2026-11-28T10:/,
      );
      // Rotated 3.5 hours ago: windows 1 and 2 are whole; 3 is partial and left out.
      const partial = await probeFile(writeLog('partial.log', lines(NOW - 210 * MINUTE, [40, 10, 10, 10])));
      expect(partial).toMatchObject({ condition: 'error-spike', severity: 'warning' });
      expect(partial.facts).toMatchObject({ current: 40, baseline: 10, baselineWindows: 2 });
    });

    it('a file that shrinks while being read (rotated) is read again', async () => {
      const before = `${iso(NOW - 8 * HOUR)} INFO started\n${render((ms, l) => `${iso(ms)} ${word(l)} x`, entries(NOW, [5, 5, 5, 5, 5, 5, 5], 200))}`;
      const after = `${iso(NOW - 8 * HOUR)} INFO started\n${render((ms, l) => `${iso(ms)} ${word(l)} x`, entries(NOW, SPIKE))}`;
      const file = writeLog('rotating.log', before);
      const port = counting();
      let rotated = false;
      const finding = await probeFile(
        file,
        {},
        {
          hosts: (real) => {
            const counted = port.wrap(real);
            return {
              ...counted,
              async exec(host, argv, o) {
                const result = await counted.exec(host, argv, o);
                // Between measuring the size and reading: copytruncate writes a shorter file.
                if (argv[0] === 'wc' && !rotated) {
                  rotated = true;
                  writeFileSync(file, after);
                }
                return result;
              },
            };
          },
        },
      );
      expect(port.seen.commands.filter((argv) => argv[0] === 'wc')).toHaveLength(2);
      expect(finding.facts).toMatchObject({ current: 30, baseline: 10, fileBytes: Buffer.byteLength(after) });
    });
  });

  describe('reading backwards in segments', () => {
    /** The same count, done the obvious way: every line, every entry, in memory. */
    const reference = (text: string, pattern: RegExp, now: number, windows: number) => {
      const counts = new Array<number>(windows + 1).fill(0);
      let entry: { ts: number; hit: boolean } | undefined;
      const close = () => {
        if (!entry?.hit) return;
        const k = entry.ts > now ? 0 : Math.floor((now - entry.ts) / HOUR);
        if (k <= windows) counts[k]!++;
      };
      for (const line of text.split('\n')) {
        const stamp = /^(\d{4}-\d\d-\d\dT\S+)/.exec(line)?.[1];
        if (stamp !== undefined) {
          close();
          entry = { ts: Date.parse(stamp), hit: false };
        }
        if (entry && pattern.test(line)) entry.hit = true;
      }
      close();
      return counts;
    };

    it('entries cut by segment and chunk boundaries count exactly as in one pass', async () => {
      const rand = seeded(42);
      const parts: string[] = [];
      // 30 hours, so the scan must stop mid-file; stack traces, long lines and matches in traces only.
      for (let ms = NOW - 30 * HOUR; ms < NOW; ms += Math.floor(rand() * 4000)) {
        const r = rand();
        const level = r < 0.03 ? 'ERROR' : 'INFO';
        parts.push(
          `${iso(ms)} ${level} request ${Math.floor(rand() * 1e6)} ${r > 0.999 ? 'x'.repeat(150_000) : ''}`,
        );
        if (rand() < 0.05) {
          const depth = 1 + Math.floor(rand() * 60);
          for (let d = 0; d < depth; d++) {
            parts.push(
              rand() < 0.02
                ? 'Caused by: java.io.IOException: reset'
                : `\tat com.example.C${d}.m(C.java:${d})`,
            );
          }
        }
      }
      const text = `${parts.join('\n')}\n`;
      const file = writeLog('segments.log', text);
      const port = counting();
      // A tiny remembered rate makes the first read one 64 KiB block, so the scan takes many steps.
      const finding = await probeFile(
        file,
        { pattern: 'ERROR|Exception' },
        { hosts: port.wrap, memory: { 'errorLogs:bytesPerMs:app-log': '0.000001' } },
      );
      const dd = port.seen.commands.filter((argv) => argv[0] === 'dd');
      expect(dd.length).toBeGreaterThanOrEqual(3);
      expect(finding.facts.bytesRead).toBeLessThan(Buffer.byteLength(text));
      expect(finding.facts.windowCounts).toEqual(reference(text, /ERROR|Exception/, NOW, 6));
    });
  });

  describe('pod logs (through the PodLogsPort)', () => {
    const podTarget = { cluster: 'homelab', namespace: 'apps', selector: 'app=web', container: 'api' };

    it('counts across every pod since the baseline start, one entry never spanning two pods', async () => {
      const calls: unknown[] = [];
      const spread = entries(NOW, SPIKE);
      const line: LineFormat = (ms, l) => `${iso(ms)} level=${l} msg="x"`;
      const finding = await probe(
        { ...podTarget, pattern: 'level=error' },
        {
          podLogs: async (...args) => {
            calls.push(args);
            return [
              {
                pod: 'web-1',
                text: render(
                  line,
                  spread.filter((_, i) => i % 2 === 0),
                ),
              },
              // A stampless first line belongs to no entry of this pod (nor to web-1's last one).
              {
                pod: 'web-2',
                text: `\tno stamp level=error\n${render(
                  line,
                  spread.filter((_, i) => i % 2 === 1),
                )}`,
              },
            ];
          },
        },
      );
      expect(calls).toEqual([
        ['homelab', 'apps', 'app=web', { sinceSeconds: 7 * 3600, timestamps: true, container: 'api' }],
      ]);
      expect(finding).toMatchObject({ target: 'app-log', condition: 'error-spike', severity: 'warning' });
      expect(finding.facts).toMatchObject({
        current: 30,
        baseline: 10,
        pods: 2,
        source: 'homelab/apps/app=web',
      });
    });

    it('no matching pods, or pod logs without timestamps, are check errors', async () => {
      await expect(probe(podTarget, { podLogs: async () => [] })).rejects.toThrow(
        'no pods match selector "app=web" in homelab/apps',
      );
      await expect(
        probe(podTarget, { podLogs: async () => [{ pod: 'web-1', text: 'ERROR a\nERROR b\n' }] }),
      ).rejects.toThrow('no timestamps recognised in the last 2 lines of homelab/apps/app=web');
    });
  });

  describe('reef check --once --json (end to end)', () => {
    it('reports an errorLogs spike on a local host with exit code 1 (warning)', async () => {
      const now = Date.now();
      const file = writeLog(
        'cli.log',
        `${iso(now - 8 * HOUR)} INFO started\n${render((ms, l) => `${iso(ms)} ${word(l)} x`, entries(now, [40, 10, 10, 10, 10, 10, 10]))}`,
      );
      const config = writeLog(
        'cli.yaml',
        `hosts:\n  self: { local: true }\nchecks:\n  errorLogs:\n    - { name: app-log, host: self, path: "${file}", pattern: "ERROR|FATAL" }\n`,
      );
      const r = await runCli(['check', '--once', '--json', '-c', config], {
        env: { REDIS_URL: 'redis://127.0.0.1:1' },
      });
      const doc = JSON.parse(r.stdout);
      expect(doc.errors).toEqual([]);
      expect(doc.findings).toEqual([
        expect.objectContaining({
          check: 'errorLogs',
          target: 'app-log',
          condition: 'error-spike',
          severity: 'warning',
          facts: expect.objectContaining({ current: 40, baseline: 10, factor: 4 }),
        }),
      ]);
      expect(r.code).toBe(1);
    });
  });
});
