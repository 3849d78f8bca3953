import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PauseFlag } from '../../src/guardrails/pause.js';
import { runCli } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

describe('global pause', () => {
  let redis: Redis;
  let dir: string;
  const prefixes: string[] = [];

  beforeAll(() => {
    redis = connect();
    dir = mkdtempSync(path.join(tmpdir(), 'reef-pause-'));
  });
  afterAll(async () => {
    for (const p of prefixes) await dropPrefix(redis, p);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });
  const fresh = () => {
    const prefix = uniquePrefix('pause');
    prefixes.push(prefix);
    return prefix;
  };

  it('pause and resume record who and when; resuming when not paused changes nothing', async () => {
    const flag = new PauseFlag(redis, fresh());
    const clock = new FakeClock();
    expect(await flag.isPaused()).toEqual({ paused: false, by: undefined, at: undefined, reason: undefined });
    expect((await flag.resume('slack:bob', clock.now())).paused).toBe(false);
    expect(await flag.history()).toEqual([]);

    await flag.pause('cli:alice', clock.now(), 'cluster upgrade');
    expect(await flag.isPaused()).toEqual({
      paused: true,
      by: 'cli:alice',
      at: new Date('2026-11-28T03:00:00Z'),
      reason: 'cluster upgrade',
    });
    clock.advance(60_000);
    const before = await flag.pause('cli:carol', clock.now());
    expect(before).toMatchObject({ paused: true, by: 'cli:alice', reason: 'cluster upgrade' });
    expect(await flag.isPaused()).toMatchObject({ paused: true, by: 'cli:carol', reason: undefined });

    clock.advance(60_000);
    expect(await flag.resume('slack:bob', clock.now())).toMatchObject({ paused: true, by: 'cli:carol' });
    expect(await flag.isPaused()).toEqual({
      paused: false,
      by: 'slack:bob',
      at: new Date('2026-11-28T03:02:00Z'),
      reason: undefined,
    });
    expect(await flag.history()).toEqual([
      { action: 'resume', by: 'slack:bob', at: '2026-11-28T03:02:00.000Z' },
      { action: 'pause', by: 'cli:carol', at: '2026-11-28T03:01:00.000Z' },
      { action: 'pause', by: 'cli:alice', at: '2026-11-28T03:00:00.000Z', reason: 'cluster upgrade' },
    ]);
  });

  it('end to end: `reef pause --reason x` sets the flag every process reads, `reef resume` clears it', async () => {
    const prefix = fresh();
    const config = path.join(dir, 'reef.yaml');
    writeFileSync(
      config,
      `timezone: UTC\nredis: { prefix: ${prefix} }\nchecks:\n  http:\n    - { name: api, url: "http://127.0.0.1:1/" }\n`,
    );
    const env = { REDIS_URL: redisUrl(), REEF_DATA_DIR: path.join(dir, 'data') };
    const flag = new PauseFlag(redis, prefix);
    const me = `cli:${userInfo().username}`;

    const paused = await runCli(['pause', '--reason', 'x', '--config', config], { env });
    expect(paused.stderr).toBe('');
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(
      new RegExp(`^Reef paused by ${me} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC: x\\.\\n`),
    );
    expect(paused.stdout).toContain('No runbook will run until `reef resume`');
    const state = await flag.isPaused();
    expect(state).toMatchObject({ paused: true, by: me, reason: 'x' });
    expect(Math.abs(Date.now() - state.at!.getTime())).toBeLessThan(60_000);
    const status = await runCli(['status', '-c', config], { env });
    expect(status.stdout).toMatch(new RegExp(`PAUSED by ${me} since .+ \\(x\\): no runbook runs until`));

    const resumed = await runCli(['resume', '-c', config], { env });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(
      new RegExp(`^Reef resumed by ${me} at .+; it was paused by ${me} since .+ \\(x\\)\\.`),
    );
    expect(await flag.isPaused()).toMatchObject({ paused: false, by: me });

    const again = await runCli(['resume', '-c', config], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('Reef is not paused; nothing to resume.\n');
    expect((await flag.history()).map((r) => r.action)).toEqual(['resume', 'pause']);
  });
});
