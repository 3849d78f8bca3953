import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { runSweep } from '../../src/checks/sweep.js';
import { configSchema, type ReefConfig } from '../../src/config/schema.js';
import { EventBus } from '../../src/events/event-bus.js';
import { type DecideDeps, decideOpened } from '../../src/execution/decide.js';
import type { ExecutionDeps } from '../../src/execution/deps.js';
import { ExecutionRecords } from '../../src/execution/execution-record.js';
import { type ExecutionJobData, executionsQueue } from '../../src/execution/queue.js';
import { startExecutionWorker } from '../../src/execution/worker.js';
import { formatBytes } from '../../src/executors/bytes.js';
import { fingerprintOf } from '../../src/findings/finding.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../src/runbooks/location.js';
import { createCheckContext } from '../../src/runtime/check-context.js';
import { eventually } from '../helpers/eventually.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { tmpfsUnavailable } from '../helpers/tmpfs.js';

const execFileAsync = promisify(execFile);
const KiB = 1024;

/**
 * A bundled runbook with its front matter moved onto the test mount: every root and path under
 * /tmp, /var/… becomes `<mount>/tmp`, `<mount>/var/…` (the steps keep their shape, patterns, ages and
 * sizes),
 * the match targets become the mount, and the mode and verify delay are the ones given.
 */
function relocated(file: string, mount: string, mode: string): string {
  const text = readFileSync(path.join(BUNDLED_RUNBOOKS_DIR, file), 'utf8');
  const end = text.indexOf('\n---', 4);
  const front = text
    .slice(0, end)
    // Only a path right after a space, `[` or `,` (roots, root:, paths), never the `*:/var` targets.
    .replace(/(?<=[\s[,])\/(tmp|var\/tmp|var\/log|var\/backups)(?=[/\],\s])/g, `${mount}/$1`)
    .replace(/^ {2}target: .*$/m, `  target: ["*:${mount}"]`)
    .replace(/^mode: \w+$/m, `mode: ${mode}`)
    .replace(/^verify: .*$/m, 'verify: { after: 1s }');
  return front + text.slice(end);
}

/** `freed 7.3 MiB under …` → bytes: what a human reads in the summary must agree with the data. */
function freedBytes(summary: string): number {
  const m = /\bfreed ([\d.]+) (B|KiB|MiB|GiB)\b/.exec(summary);
  if (!m) return 0;
  return Number(m[1]) * KiB ** ['B', 'KiB', 'MiB', 'GiB'].indexOf(m[2]!);
}

/** `bytes` of access-log lines (compressible like a real log, unlike a run of one byte), newline-ended. */
function logText(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `2026-01-0${1 + (i % 9)}T${String(i % 24).padStart(2, '0')}:00:00.${String(i % 1000).padStart(3, '0')}Z INFO GET /api/items/${(i * 7919) % 100_003} status=200 duration_ms=${(i * 31) % 997} request_id=${((i * 2_654_435_761) >>> 0).toString(16)}\n`;
    lines.push(line);
    size += line.length;
  }
  const text = Buffer.from(lines.join('').slice(0, bytes - 1));
  return Buffer.concat([text, Buffer.from('\n')]);
}

const skipReason = await tmpfsUnavailable();
if (skipReason) console.warn(`skipping the disk-full execution test: ${skipReason}`);

/**
 * The seed's disk case: `/var`-like mount at 98 % → disk-critical → disk-cleanup (auto): old files
 * deleted, then the live log rotated, the bytes freed reported per step and in all → verified.
 */
describe.skipIf(skipReason)('a full disk cleaned through decision, execution and verification', () => {
  let base: string;
  let mount = '';
  let mounted = false;
  const s = {} as {
    redis: Redis;
    prefix: string;
    config: ReefConfig;
    queue: Queue<ExecutionJobData>;
    deps: ExecutionDeps;
    decideDeps: DecideDeps;
  };
  let stopWorker: (() => Promise<unknown>) | undefined;

  /** A file of `kib` KiB whose mtime is `age` (GNU touch), so `-mtime` in the executor sees it as old. */
  const file = async (rel: string, kib: number, age?: string) => {
    const full = path.join(mount, rel);
    await writeFile(full, Buffer.alloc(kib * KiB, 1));
    if (age) await execFileAsync('touch', ['-d', age, full]);
    return full;
  };

  /** The live log before the run: its content, and its inode (a truncation in place keeps it). */
  const live = { sha256: '', bytes: 0, ino: 0 };
  /** What the four deletions must free: the files past the runbook's ages, exactly (tmpfs). */
  const OLD_KIB = 3000 + 1000 + 5000 + 5000;

  beforeAll(async () => {
    // realpath: the executor compares the host's realpath of each root with the runbook's roots.
    base = realpathSync(await mkdtemp(path.join(tmpdir(), 'reef-disk-full-')));
    mount = path.join(base, 'm');
    await mkdir(mount);
    await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', mount]);
    mounted = true;
    for (const dir of ['tmp', 'var/tmp', 'var/log', 'var/backups'])
      await mkdir(path.join(mount, dir), { recursive: true });
    // 14000 KiB past the runbook's ages, a 12 MiB live log and 5600 KiB recent files:
    // 31888 of 32768 KiB, df says 98 %.
    await file('tmp/old.tmp', 3000, '10 days ago');
    await file('var/tmp/tmp.a1b2', 1000, '10 days ago');
    await file('var/log/app.log.1.gz', 5000, '20 days ago');
    await file('var/backups/db.sql.gz', 5000, '40 days ago');
    await file('var/log/app.log.2.gz', 100, '2 days ago'); // compressed but younger than 14 days
    await file('tmp/new.tmp', 5500);
    // The live log, over the runbook's 10 MiB: never deleted, rotated once there is room for its copy.
    const text = logText(12 * KiB * KiB);
    await writeFile(path.join(mount, 'var/log/app.log'), text);
    Object.assign(live, {
      sha256: createHash('sha256').update(text).digest('hex'),
      bytes: text.length,
      ino: (await stat(path.join(mount, 'var/log/app.log'))).ino,
    });

    const runbooks = await mkdtemp(path.join(tmpdir(), 'reef-disk-full-runbooks-'));
    await writeFile(path.join(runbooks, 'disk-cleanup.md'), relocated('disk-cleanup.md', mount, 'auto'));
    // Loaded because disk-cleanup names it as its alternative; approve mode, so it never runs here.
    await writeFile(path.join(runbooks, 'log-rotation.md'), relocated('log-rotation.md', mount, 'approve'));

    s.redis = connect();
    s.prefix = uniquePrefix('diskfull');
    s.config = configSchema.parse({
      redis: { prefix: s.prefix },
      hosts: { self: { local: true } },
      checks: { disk: [{ host: 'self', paths: [mount], warnPercent: 85, actPercent: 90 }] },
    });
    const store = new IncidentStore(s.redis, s.prefix);
    const tracker = new IncidentTracker(store, systemClock);
    const audit = new AuditLog(s.redis, s.prefix, { clock: systemClock });
    const bus = new EventBus(s.redis, s.prefix);
    const catalog = loadCatalog(runbooks);
    await rm(runbooks, { recursive: true, force: true }); // the catalog is in memory now
    s.queue = executionsQueue({ url: redisUrl() }, s.prefix);
    s.deps = {
      config: s.config,
      clock: systemClock,
      store,
      tracker,
      bus,
      audit,
      catalog,
      redis: s.redis,
      prefix: s.prefix,
      dryRun: false,
      queue: s.queue,
    };
    s.decideDeps = { catalog, store, bus, audit, clock: systemClock, queue: s.queue };
  });

  afterAll(async () => {
    await stopWorker?.();
    await s.queue?.close();
    if (s.redis) {
      await dropPrefix(s.redis, s.prefix);
      s.redis.disconnect();
    }
    // Only our own mount, by its path.
    if (mounted) await execFileAsync('umount', [mount]).catch(() => {});
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('opens disk-critical, cleans and rotates, reports the bytes freed and resolves on verification', async () => {
    // A sweep of the real disk check through the real tracker; the opened incident goes to `decide`.
    const { context, close } = createCheckContext(s.config, { clock: systemClock });
    let events: Awaited<ReturnType<IncidentTracker['ingest']>>;
    try {
      const run = await runSweep(s.config, context, { only: 'self' });
      expect(run.errors).toEqual([]);
      events = await s.deps.tracker.ingest({ outcomes: run.outcomes, only: run.only }, s.config);
    } finally {
      await close();
    }
    const fingerprint = fingerprintOf('disk', `self:${mount}`, 'disk-critical');
    const incident = (await s.deps.store.currentFor(fingerprint))!;
    expect(incident).toMatchObject({ state: 'open', check: 'disk', condition: 'disk-critical' });
    expect(incident.facts.usedPercent).toBeGreaterThanOrEqual(97);
    await decideOpened(events, s.decideDeps);

    const worker = startExecutionWorker(s.deps, { connection: { url: redisUrl() } });
    stopWorker = () => worker.stop();
    const done = await eventually(
      'the incident to resolve',
      async () => {
        const now = await s.deps.store.get(incident.id);
        return now?.state === 'resolved' || now?.state === 'escalated' ? now : undefined;
      },
      20_000,
    );
    expect(done.history.map((e) => e.state)).toEqual(['open', 'executing', 'verifying', 'resolved']);

    const record = (await new ExecutionRecords(s.redis, s.prefix).get(incident.id, 'disk-cleanup'))!;
    expect(record.state).toBe('succeeded');
    expect(record.steps.map((st) => [st.type, st.ok])).toEqual([
      ...Array.from({ length: 4 }, () => ['files.cleanup', true]),
      ['files.rotateLogs', true],
    ]);
    // Each step freed what its root held past the age (tmpfs sizes are exact to the KiB), then the
    // rotation what compressing the live log's copy saved.
    const freed = record.steps.map((st) => freedBytes(st.summary));
    expect(freed.every((b) => b > 0)).toBe(true);
    expect(record.steps[2]!.summary).toMatch(
      new RegExp(`^freed 4\\.9 MiB under ${mount}/var/log on self: 1 files`),
    );
    expect(record.steps[4]!.summary).toMatch(/^rotated 1 logs on self, freed \d+(\.\d)? MiB/);
    // The exact figures are kept as data on the record too, not only in the summary text.
    const exact = record.steps.map((st) => Number(st.data?.bytesFreed));
    expect(exact.slice(0, 4).reduce((a, b) => a + b, 0)).toBe(OLD_KIB * KiB);

    // Old files gone; the files younger than the runbook's ages stay.
    for (const gone of ['tmp/old.tmp', 'var/tmp/tmp.a1b2', 'var/log/app.log.1.gz', 'var/backups/db.sql.gz'])
      expect(existsSync(path.join(mount, gone)), gone).toBe(false);
    for (const kept of ['var/log/app.log.2.gz', 'tmp/new.tmp'])
      expect(existsSync(path.join(mount, kept)), kept).toBe(true);

    // The live log was rotated: truncated in place (same inode, so its writer keeps its file), and its
    // whole content kept in one gzipped copy beside it.
    const logPath = path.join(mount, 'var/log/app.log');
    const after = await stat(logPath);
    expect({ size: after.size, ino: after.ino }).toEqual({ size: 0, ino: live.ino });
    const copies = (await readdir(path.join(mount, 'var/log'))).filter((f) =>
      /^app\.log\.\d{8}-\d{6}\.gz$/.test(f),
    );
    expect(copies).toHaveLength(1);
    const copyPath = path.join(mount, 'var/log', copies[0]!);
    const zipped = await readFile(copyPath);
    expect(createHash('sha256').update(gunzipSync(zipped)).digest('hex')).toBe(live.sha256);
    expect(record.steps[4]!.data).toMatchObject({
      rotated: [{ path: logPath, copy: copyPath, copiedBytes: live.bytes, storedBytes: zipped.length }],
    });
    expect(exact[4]).toBe(live.bytes - zipped.length);

    // The total, reported once for the run: in the audit and in what the operator reads.
    const total = OLD_KIB * KiB + live.bytes - zipped.length;
    expect(exact.reduce((a, b) => a + b, 0)).toBe(total);

    // The audit says who decided what, each step with its bytes freed, and the verification.
    const audit = await s.deps.audit.read({ incidentId: incident.id });
    expect(audit.find((e) => e.action === 'decision')?.why).toMatch(
      /^run: runbook disk-cleanup \(mode auto\) \(alternatives: log-rotation\)/,
    );
    expect(audit.filter((e) => e.action === 'step').map((e) => e.why)).toEqual(
      record.steps.map((st) => `ok: ${st.summary}`),
    );
    const ran = audit.find((e) => e.action === 'execution' && /ran all/.test(e.why));
    expect(ran?.details).toEqual({ bytesFreed: total });
    expect(ran?.why).toBe(`runbook disk-cleanup ran all 5 steps: freed ${formatBytes(total)} in all`);
    expect(formatBytes(total)).toMatch(/^2\d MiB$/);
    const verifying = (await s.redis.xrange(`${s.prefix}:events`, '-', '+'))
      .map(([, fields]) => JSON.parse(fields[1]!) as { type: string; note?: string })
      .find((e) => e.type === 'verifying');
    expect(verifying?.note).toContain(`${ran!.why}; the disk check runs again in 1s`);
    expect(audit.find((e) => e.action === 'verification')?.why).toMatch(
      /passed .* after runbook disk-cleanup/,
    );

    // Verification's own df now says below actPercent.
    const { stdout } = await execFileAsync('df', ['-P', mount]);
    const percent = Number(/(\d+)%/.exec(stdout.split('\n')[1] ?? '')?.[1]);
    expect(percent).toBeLessThan(90);
  });
});
