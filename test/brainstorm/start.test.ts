import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDate } from '../../src/brainstorm/window.js';
import { type BrainstormJobData, brainstormQueue } from '../../src/schedule/queues.js';
import { RunningCli, runCli } from '../helpers/cli.js';
import { startHttpServer, type TestHttpServer } from '../helpers/http-server.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

describe('the Brainstorm in a running Reef (reef start)', () => {
  let server: TestHttpServer;
  let reef: RunningCli;
  let redis: Redis;
  let queue: Queue<BrainstormJobData>;
  let dir: string;
  let file: string;
  const prefix = uniquePrefix('bs-start');
  const env = () => ({ REDIS_URL: redisUrl(), REEF_HTTP_PORT: '0', REEF_DATA_DIR: path.join(dir, 'data') });

  beforeAll(async () => {
    redis = connect();
    dir = mkdtempSync(path.join(tmpdir(), 'reef-bs-start-'));
    server = await startHttpServer((_req, res) => res.writeHead(200).end('ok'));
    file = path.join(dir, 'reef.yaml');
    writeFileSync(
      file,
      `timezone: Europe/Berlin\nredis: { prefix: ${prefix} }\nmemoryDir: ./memory\nchecks:\n  http:\n    - { name: api, url: "${server.url}/ok" }\n`,
    );
    reef = new RunningCli(['start', '--config', file], { env: env() });
    await reef.waitFor(/Reef is running/);
    queue = brainstormQueue({ url: redisUrl() }, prefix);
  });
  afterAll(async () => {
    await queue?.close();
    await reef?.stop();
    await server.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('declares the 04:00 Brainstorm schedule in the configured zone (reef status lists it)', async () => {
    await reef.waitFor(/brainstorm schedule upserted/, 'stderr');
    const status = await runCli(['status', '-c', file], { env: env() });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /brainstorm\s+0 4 \* \* \*\s+next \d{4}-\d\d-\d\d 04:00 CET \(in \d+[hm]\)/,
    );
  });

  it('a worker runs the scheduled job: the report goes to memory and the console prints the digest once per date', async () => {
    await queue.add('brainstorm', { trigger: 'schedule' });
    const today = localDate(Date.now(), 'Europe/Berlin');
    await reef.waitFor(new RegExp(`Nightly Brainstorm — ${today}\\nLast 24 h: 0 incidents opened`));
    expect(reef.stdout).toContain(`Report in memory: brainstorm/${today}.md`);
    expect(reef.stdout).toContain('## Disk growth');
    expect(existsSync(path.join(dir, 'memory', 'brainstorm', `${today}.md`))).toBe(true);
    await reef.waitFor(/"msg":"brainstorm finished"/, 'stderr');

    // The same night again (a second scheduler, a retry): written the same, not posted twice.
    await queue.add('brainstorm', { trigger: 'schedule' });
    await reef.waitFor(/"msg":"brainstorm finished"[\s\S]*"msg":"brainstorm finished"/, 'stderr');
    expect(reef.stderr).toMatch(/"posted":false[^\n]*"msg":"brainstorm finished"/);
    expect(reef.stdout.match(/Nightly Brainstorm — \d{4}-\d\d-\d\d\nLast 24 h/g)).toHaveLength(1);
  });
});
