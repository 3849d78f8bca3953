import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { CHECKS_QUEUE, checksQueue } from '../../src/schedule/queues.js';
import { listSchedules, upsertSchedules } from '../../src/schedule/scheduler.js';
import { formatLocal } from '../../src/util/time.js';
import { RunningCli, runCli } from '../helpers/cli.js';
import { startHttpServer, type TestHttpServer } from '../helpers/http-server.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

describe('schedules on a real Redis', () => {
  let redis: Redis;
  let prefix: string;
  const queues: Queue[] = [];

  beforeEach(() => {
    redis = connect();
    prefix = uniquePrefix('sched');
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  const queue = () => {
    const q = checksQueue({ url: redisUrl() }, prefix);
    queues.push(q);
    return q;
  };

  it('upserting from several schedulers, and again after a restart, leaves exactly one schedule', async () => {
    const config = configSchema.parse({ timezone: 'Europe/Berlin', schedule: { checks: '*/15 * * * *' } });
    await Promise.all([upsertSchedules(queue(), config), upsertSchedules(queue(), config)]);
    await upsertSchedules(queue(), config);
    const schedules = await listSchedules(queue());
    expect(schedules).toHaveLength(1);
    expect(schedules[0]).toMatchObject({ id: 'sweep', pattern: '*/15 * * * *', tz: 'Europe/Berlin' });
    expect(await queue().getDelayedCount()).toBe(1);
  });

  it('a changed pattern replaces the schedule instead of adding one', async () => {
    await upsertSchedules(queue(), configSchema.parse({ schedule: { checks: '*/15 * * * *' } }));
    await upsertSchedules(queue(), configSchema.parse({ schedule: { checks: '*/5 * * * *' } }));
    const schedules = await listSchedules(queue());
    expect(schedules.map((s) => s.pattern)).toEqual(['*/5 * * * *']);
  });

  it.each(['Europe/Berlin', 'America/New_York', 'Asia/Kolkata'])(
    'computes the next run in the configured time zone (%s)',
    async (tz) => {
      await upsertSchedules(
        queue(),
        configSchema.parse({ timezone: tz, schedule: { checks: '30 4 * * *' } }),
      );
      const [schedule] = await listSchedules(queue());
      const next = schedule!.next!;
      expect(next).toBeGreaterThan(Date.now());
      expect(next - Date.now()).toBeLessThanOrEqual(86_400_000);
      expect(formatLocal(next, tz)).toMatch(/ 04:30 /);
    },
  );
});

describe('scheduler and worker processes', () => {
  let server: TestHttpServer;
  let redis: Redis;
  let prefix: string;
  let configFile: string;
  const processes: RunningCli[] = [];

  beforeEach(async () => {
    redis = connect();
    prefix = uniquePrefix('proc');
    server = await startHttpServer((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late but fine'), 1500);
      else res.writeHead(200).end('ok');
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'reef-proc-'));
    configFile = path.join(dir, 'reef.yaml');
    writeFileSync(
      configFile,
      `timezone: Europe/Berlin\nredis: { prefix: ${prefix} }\nchecks:\n  http:\n    - { name: svc, url: "${server.url}/health", retries: 0 }\n`,
    );
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop()));
    await server.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  const spawnRole = (role: string) => {
    const p = new RunningCli([role, '--config', configFile], {
      env: { REDIS_URL: redisUrl(), LOG_LEVEL: 'info' },
    });
    processes.push(p);
    return p;
  };

  it('two scheduler processes declare one schedule and stop cleanly on SIGTERM', async () => {
    const a = spawnRole('scheduler');
    const b = spawnRole('scheduler');
    await a.waitFor(/sweep schedule upserted/, 'stderr');
    await b.waitFor(/sweep schedule upserted/, 'stderr');
    const q = new Queue(CHECKS_QUEUE, { connection: { url: redisUrl() }, prefix });
    expect(await q.getJobSchedulersCount()).toBe(1);
    await q.close();
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    expect(a.stderr).toMatch(/Reef stopped/);
  });

  it('two worker processes share the sweeps: each sweep runs exactly once', async () => {
    const a = spawnRole('worker');
    const b = spawnRole('worker');
    const q = new Queue(CHECKS_QUEUE, { connection: { url: redisUrl() }, prefix });
    // Waits for both to connect (a loaded CI machine may take several seconds to start a process).
    for (let i = 0; i < 300 && (await q.getWorkersCount()) < 2; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await q.getWorkersCount()).toBe(2);
    const jobs = 20;
    await q.addBulk(
      Array.from({ length: jobs }, (_, i) => ({
        name: 'sweep',
        data: { trigger: 'test' },
        opts: { jobId: `t-${i}` },
      })),
    );
    for (let i = 0; i < 300 && (await q.getCompletedCount()) < jobs; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await q.getCompletedCount()).toBe(jobs);
    expect(server.hits.get('/health')).toBe(jobs);
    const finished = `${a.stderr}\n${b.stderr}`.match(/"msg":"sweep finished"/g) ?? [];
    expect(finished).toHaveLength(jobs);
    await q.close();
  });

  it('SIGTERM during a sweep lets it finish and deliver its result before the worker exits', async () => {
    writeFileSync(
      configFile,
      `redis: { prefix: ${prefix} }\nchecks:\n  http:\n    - { name: slow, url: "${server.url}/slow", retries: 0 }\n`,
    );
    const worker = spawnRole('worker');
    const q = new Queue(CHECKS_QUEUE, { connection: { url: redisUrl() }, prefix });
    for (let i = 0; i < 300 && (await q.getWorkersCount()) < 1; i++)
      await new Promise((r) => setTimeout(r, 100));
    const check = runCli(['check', '--json', '-c', configFile], { env: { REDIS_URL: redisUrl() } });
    for (let i = 0; i < 100 && !server.hits.get('/slow'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(server.hits.get('/slow')).toBe(1);
    const stopped = worker.stop();
    const result = await check;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).findings[0]).toMatchObject({ target: 'slow', severity: 'ok' });
    expect(await stopped).toBe(0);
    expect(worker.stderr.indexOf('sweep finished')).toBeGreaterThan(-1);
    expect(worker.stderr.indexOf('sweep finished')).toBeLessThan(worker.stderr.indexOf('Reef stopped'));
    await q.close();
  });
});
