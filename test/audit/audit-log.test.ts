import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditRecord, digestOutput } from '../../src/audit/audit-entry.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MODULE = pathToFileURL(path.join(REPO, 'src/audit/audit-log.ts')).href;

/** A separate Node process appending COUNT entries at once; prints `{ ids, errors }`. */
const WRITER = `
import { Redis } from 'ioredis';
import { AuditLog } from ${JSON.stringify(MODULE)};
const redis = new Redis(process.env.REDIS_URL);
const errors = [];
const log = new AuditLog(redis, process.env.PREFIX, {
  dataDir: process.env.DATA_DIR,
  onError: (message) => errors.push(message),
});
const ids = await Promise.all(
  Array.from({ length: Number(process.env.COUNT) }, (_, seq) =>
    log
      .record({ actor: process.env.ACTOR, action: 'step', why: 'step ' + seq, details: { seq, filler: 'x'.repeat(1200) } })
      .then((r) => r.id),
  ),
);
console.log(JSON.stringify({ ids, errors }));
redis.disconnect();
`;

function runWriter(
  env: Record<string, string>,
  uid?: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER], {
      cwd: REPO,
      env: { ...process.env, REDIS_URL: redisUrl(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function mirrorLines(dataDir: string): Promise<string[]> {
  const dir = path.join(dataDir, 'audit');
  const files = (await readdir(dir)).filter((f) => /^audit-\d{4}-\d{2}-\d{2}\.jsonl$/.test(f)).sort();
  const texts = await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')));
  return texts.join('').split('\n').filter(Boolean);
}

async function redisNow(redis: Redis): Promise<Date> {
  const [seconds, micros] = await redis.time();
  return new Date(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('audit log (real Redis, real data directory)', () => {
  let redis: Redis;
  let prefix: string;
  let dataDir: string;
  let errors: string[];
  let audit: AuditLog;

  beforeEach(async () => {
    redis = connect();
    prefix = uniquePrefix('audit');
    dataDir = await mkdtemp(path.join(tmpdir(), 'reef-audit-'));
    errors = [];
    audit = new AuditLog(redis, prefix, { dataDir, onError: (m) => errors.push(m) });
  });
  afterEach(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
    await chmod(dataDir, 0o700).catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  });

  it('appends to the stream and mirrors each entry as one JSON line, in order, with secrets redacted', async () => {
    const output = 'pod web-1 deleted\n';
    const written = [
      await audit.record({
        actor: 'reef',
        action: 'decision',
        incidentId: '7',
        fingerprint: 'abc123def456',
        runbookId: 'restart-crashloop-pod',
        target: 'pods/web',
        why: 'auto mode: pod web-1 is crash-looping',
        details: {
          mode: 'auto',
          token: 'xoxb-secret-1',
          headers: { Authorization: 'Bearer secret-2', accept: 'json' },
          ssh: { password: 'secret-3', privateKey: 'secret-4', keyboard: 'us' },
          list: [{ apiKey: 'secret-5' }, 3],
          SLACK_SIGNING_SECRET: 'secret-6',
        },
      }),
      await audit.record({
        actor: 'U024BE7LH',
        action: 'approval',
        incidentId: '7',
        // A reason quoting what a step saw: a credential in it is redacted like one in details.
        why: `approved in Slack; the step logs in with postgres://reef:${'hunter2'}-pw@db:5432/app`,
      }),
      await audit.record({
        actor: 'reef',
        action: 'step',
        incidentId: '7',
        why: 'kubernetes.deletePod web-1',
        outputDigest: digestOutput(output),
      }),
    ];

    const stream = await redis.xrange(`${prefix}:audit`, '-', '+');
    expect(stream.map(([id]) => id)).toEqual(written.map((w) => w.id));
    const lines = await mirrorLines(dataDir);
    expect(lines.map((l) => JSON.parse(l) as AuditRecord)).toEqual(written);
    expect(await audit.read()).toEqual(written);

    const raw = `${lines.join('\n')}${JSON.stringify(stream)}`;
    expect(raw).not.toMatch(/secret-\d/);
    expect(written[0]!.details).toEqual({
      mode: 'auto',
      token: '[redacted]',
      headers: { Authorization: '[redacted]', accept: 'json' },
      ssh: { password: '[redacted]', privateKey: '[redacted]', keyboard: 'us' },
      list: [{ apiKey: '[redacted]' }, 3],
      SLACK_SIGNING_SECRET: '[redacted]',
    });
    expect(written[1]!.why).toMatch(/^approved in Slack; the step logs in with postgres:\/\/reef:\[REDACTED/);
    expect(raw).not.toContain('hunter2');
    expect(written[2]!.outputDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Object.keys(JSON.parse(lines[1]!))).toEqual(['id', 'at', 'actor', 'action', 'incidentId', 'why']);
    const auditDir = path.join(dataDir, 'audit');
    expect((await stat(auditDir)).mode & 0o777).toBe(0o700);
    const [mirrorFile] = await readdir(auditDir);
    expect(mirrorFile).toBe(`audit-${written[0]!.at.slice(0, 10)}.jsonl`);
    expect((await stat(path.join(auditDir, mirrorFile!))).mode & 0o777).toBe(0o600);
    expect(errors).toEqual([]);
  });

  it('reads by time (stream ids), by incident and with a limit; oldest first', async () => {
    await audit.record({ actor: 'reef', action: 'decision', incidentId: '1', why: 'old one' });
    await audit.record({ actor: 'reef', action: 'decision', incidentId: '2', why: 'old two' });
    await sleep(20);
    const cut = await redisNow(redis);
    await sleep(5);
    await audit.record({ actor: 'reef', action: 'step', incidentId: '1', why: 'new one' });
    await audit.record({ actor: 'reef', action: 'verification', incidentId: '2', why: 'new two' });
    await audit.record({ actor: 'reef', action: 'escalation', incidentId: '1', why: 'new three' });

    const why = (rs: AuditRecord[]) => rs.map((r) => r.why);
    expect(why(await audit.read({ since: cut }))).toEqual(['new one', 'new two', 'new three']);
    expect(why(await audit.read({ since: cut, limit: 2 }))).toEqual(['new two', 'new three']);
    expect(why(await audit.read({ incidentId: '1' }))).toEqual(['old one', 'new one', 'new three']);
    expect(why(await audit.read({ incidentId: '1', limit: 1 }))).toEqual(['new three']);
    expect(why(await audit.read({ since: cut, incidentId: '2' }))).toEqual(['new two']);
    expect(await audit.read({ since: new Date(Date.now() + 3_600_000) })).toEqual([]);
  });

  it('pages through more entries than one read page', async () => {
    const tx = redis.multi();
    for (let i = 0; i < 2500; i++)
      tx.xadd(
        `${prefix}:audit`,
        '*',
        'entry',
        JSON.stringify({
          at: new Date().toISOString(),
          actor: 'reef',
          action: 'step',
          incidentId: i % 10 === 0 ? '9' : '8',
          why: `s${i}`,
        }),
      );
    await tx.exec();
    const nines = await audit.read({ incidentId: '9', limit: 10_000 });
    expect(nines).toHaveLength(250);
    expect(nines.at(-1)!.why).toBe('s2490');
    expect(await audit.read({ limit: 2500 })).toHaveLength(2500);
  });

  it('two processes writing 100 entries each at once leave 200 intact lines', async () => {
    const env = (actor: string) => ({ PREFIX: prefix, DATA_DIR: dataDir, COUNT: '100', ACTOR: actor });
    const [a, b] = await Promise.all([runWriter(env('writer-a')), runWriter(env('writer-b'))]);
    for (const r of [a, b]) expect(r.code, r.stderr).toBe(0);

    const lines = await mirrorLines(dataDir);
    expect(lines).toHaveLength(200);
    const records = lines.map((l) => JSON.parse(l) as AuditRecord);
    expect(new Set(records.map((r) => r.id)).size).toBe(200);
    for (const actor of ['writer-a', 'writer-b']) {
      const mine = records.filter((r) => r.actor === actor);
      // Each process's lines keep its own stream order.
      expect(mine.map((r) => r.id)).toEqual(mine.map((r) => r.id).sort(compareIds));
      expect(mine.map((r) => r.details?.seq).sort((x, y) => Number(x) - Number(y))).toEqual([
        ...Array(100).keys(),
      ]);
      expect(mine.every((r) => r.details?.filler === 'x'.repeat(1200))).toBe(true);
    }
    expect(await redis.xlen(`${prefix}:audit`)).toBe(200);
    for (const r of [a, b]) expect(JSON.parse(r.stdout).errors).toEqual([]);
  });

  it('a read-only data directory: the Redis entry stands and the failure is reported, not thrown', async () => {
    await chmod(dataDir, 0o555);
    // Root ignores permission bits, so the writer drops to `nobody` when the tests run as root.
    const uid = process.getuid?.() === 0 ? 65_534 : undefined;
    const r = await runWriter({ PREFIX: prefix, DATA_DIR: dataDir, COUNT: '1', ACTOR: 'reef' }, uid);
    expect(r.code, r.stderr).toBe(0);
    const { ids, errors: reported } = JSON.parse(r.stdout) as { ids: string[]; errors: string[] };
    expect(ids).toHaveLength(1);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toContain(
      `audit entry ${ids[0]} is in Redis (${prefix}:audit) but its file mirror failed`,
    );
    expect(reported[0]).toMatch(/EACCES|EROFS|EPERM/);
    expect((await audit.read()).map((e) => e.id)).toEqual(ids);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('bounds an oversized entry so its line stays one atomic write, and refuses an unknown action', async () => {
    const big = await audit.record({
      actor: 'reef',
      action: 'step',
      why: `${'w"'.repeat(2000)}\n`,
      target: 't'.repeat(1000),
      details: { output: '\u0001'.repeat(5000), password: 'hunter2' },
    });
    expect(big.details).toMatchObject({ truncated: true });
    expect(JSON.stringify(big.details)).not.toContain('hunter2');
    expect(big.why.endsWith('…')).toBe(true);
    const [line] = await mirrorLines(dataDir);
    expect(Buffer.byteLength(`${line}\n`)).toBeLessThan(4096);

    await expect(
      audit.record({ actor: 'reef', action: 'reboot' as never, why: 'no such action' }),
    ).rejects.toThrow(/Unknown audit action "reboot"/);
    await expect(audit.record({ actor: '', action: 'pause', why: 'x' })).rejects.toThrow(/actor/);
    expect(await redis.xlen(`${prefix}:audit`)).toBe(1);
  });

  it('without a data directory it writes only to Redis', async () => {
    const redisOnly = new AuditLog(redis, prefix);
    await redisOnly.record({ actor: 'cli:ops', action: 'pause', why: 'maintenance window' });
    expect(await readdir(dataDir)).toEqual([]);
    expect((await redisOnly.read())[0]).toMatchObject({ actor: 'cli:ops', action: 'pause' });
  });
});

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}
