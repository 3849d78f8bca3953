import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDate, previousDate } from '../../src/brainstorm/window.js';
import { configSchema } from '../../src/config/schema.js';
import { makeFinding } from '../../src/findings/finding.js';
import { recordSweep } from '../../src/history/record-sweep.js';
import { runCli } from '../helpers/cli.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const HOUR = 3_600_000;
const TZ = 'America/New_York';

describe('reef brainstorm', () => {
  let redis: Redis;
  let prefix: string;
  let dir: string;
  let configFile: string;

  beforeAll(async () => {
    redis = connect();
    prefix = uniquePrefix('bs-cli');
    dir = mkdtempSync(path.join(tmpdir(), 'reef-bs-cli-'));
    configFile = path.join(dir, 'reef.yaml');
    writeFileSync(
      configFile,
      [
        `timezone: ${TZ}`,
        `redis: { prefix: ${prefix} }`,
        'memoryDir: ./memory',
        'hosts: { nas: { local: true } }',
        'checks:',
        '  disk: [ { host: nas, paths: ["/srv"] } ]',
        '',
      ].join('\n'),
    );
    // Two days of a disk filling 5 points a day, ending now (the CLI runs on the real clock).
    const config = configSchema.parse({
      hosts: { nas: { local: true } },
      checks: { disk: [{ host: 'nas', paths: ['/srv'] }] },
    });
    const now = Date.now();
    for (let t = now - 48 * HOUR; t < now; t += HOUR) {
      const used = 80 - 5 * ((now - t) / (24 * HOUR));
      const finding = makeFinding(
        {
          check: 'disk',
          target: 'nas:/srv',
          condition: 'ok',
          severity: 'ok',
          summary: '',
          facts: { host: 'nas', mount: '/srv', usedPercent: Math.round(used) },
        },
        new Date(t),
      );
      await recordSweep(redis, prefix, config, [finding], new Date(t));
    }
  });
  afterAll(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const reef = (args: string[]) =>
    runCli(['brainstorm', ...args, '-c', configFile], { env: { REDIS_URL: redisUrl() } });

  it('--now --json computes the report, commits it to memory and hands the digest to the surface', async () => {
    const result = await reef(['--now', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    const today = localDate(Date.now(), TZ);
    expect(out.date).toBe(today);
    expect(out.path).toBe(path.join(dir, 'memory', 'brainstorm', `${today}.md`));
    expect(out.memory).toMatchObject({ status: 'committed', scanner: 'embedded' });
    expect(out.report.disks).toHaveLength(1);
    expect(out.report.disks[0].target).toBe('nas:/srv');
    expect(out.report.disks[0].daysToFull).toBeGreaterThan(3.9);
    expect(out.report.disks[0].daysToFull).toBeLessThan(4.2);
    expect(readFileSync(out.path, 'utf8')).toMatch(
      /\| nas:\/srv \| 80 % \| 5(\.\d+)? points \| [34] days \|/,
    );
    expect(
      execFileSync('git', ['-C', path.join(dir, 'memory'), 'log', '--format=%s'], { encoding: 'utf8' }),
    ).toContain(`Nightly Brainstorm ${today}`);
    const notices = await redis.xrange(`${prefix}:notices`, '-', '+');
    expect(notices.map(([, f]) => JSON.parse(f[1]!).digest.title)).toEqual([`Nightly Brainstorm — ${today}`]);
  });

  it('prints the digest for humans, and writes the report of a past night with --date', async () => {
    const yesterday = previousDate(localDate(Date.now(), TZ));
    const result = await reef(['--date', yesterday]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Nightly Brainstorm — ${yesterday}`);
    expect(result.stdout).toMatch(/04:00 E[SD]T → \d{4}-\d{2}-\d{2} 04:00 E[SD]T/);
    expect(result.stdout).toContain('Last 24 h: 0 incidents opened');
    expect(result.stdout).toContain(
      `Report: ${path.join(dir, 'memory', 'brainstorm', `${yesterday}.md`)} (committed `,
    );
  });

  it('refuses a bad date or two reports at once, before touching anything', async () => {
    const bad = await reef(['--date', '2026-02-30']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error: --date "2026-02-30" is not a date written YYYY-MM-DD');
    expect(bad.stderr).toContain('hint: For example `reef brainstorm --date 2026-11-27`');
    const both = await reef(['--now', '--date', '2026-11-27']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--now and --date are two different reports');
    const future = await reef(['--date', '2999-01-01']);
    expect(future.code).toBe(1);
    expect(future.stderr).toContain('is in the future');
  });

  it('a memory folder that is not Reef’s loses nothing: the report still goes out, with the reason', async () => {
    const other = path.join(dir, 'other');
    mkdirSync(other);
    writeFileSync(path.join(other, 'notes.txt'), 'mine\n');
    writeFileSync(
      configFile,
      readFileSync(configFile, 'utf8').replace('memoryDir: ./memory', 'memoryDir: ./other'),
    );
    const result = await reef(['--now', '--json']);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.memory).toEqual({
      status: 'failed',
      error: `memoryDir ${other} is not empty and not Reef's memory repository`,
    });
    expect(out.report.notes).toContain(
      `The report could not be written to memory (memoryDir ${other} is not empty and not Reef's memory repository).`,
    );
    const digest = (await redis.xrange(`${prefix}:notices`, '-', '+'))
      .map(([, f]) => JSON.parse(f[1]!))
      .at(-1).digest;
    expect(digest.path).toBeUndefined();
    expect(digest.markdown).toContain('## Disk growth');
  });
});
