import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { privateSocketPath, redact, resolveRedis } from '../../src/adapters/redis.js';
import { closedPort } from '../helpers/http-server.js';
import { redisUrl } from '../helpers/redis.js';

describe('finding a Redis', () => {
  it('uses REDIS_URL when it answers', async () => {
    const handle = await resolveRedis({
      url: redisUrl(),
      explicit: true,
      dataDir: '/nonexistent',
      mayStartPrivate: false,
    });
    expect(handle.location).toEqual({ kind: 'url', url: redisUrl() });
    expect(handle.privateServer).toBeUndefined();
    await handle.stop();
  });

  it('an explicit REDIS_URL that does not answer is an error naming it, never replaced by a private server', async () => {
    const url = `redis://:hunter2@127.0.0.1:${await closedPort()}`;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'reef-redis-'));
    await expect(resolveRedis({ url, explicit: true, dataDir, mayStartPrivate: true })).rejects.toMatchObject(
      {
        code: 'reef_redis_unavailable',
        message: expect.stringMatching(/Redis is not reachable at redis:\/\/:\*\*\*@127\.0\.0\.1/),
      },
    );
    expect(existsSync(privateSocketPath(dataDir))).toBe(false);
  });

  it('without a reachable default, a command that may not start Redis says how to get one', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'reef-redis-'));
    await expect(
      resolveRedis({ url, explicit: false, dataDir, mayStartPrivate: false }),
    ).rejects.toMatchObject({
      hint: expect.stringMatching(/docker compose up -d redis.*apt-get install redis-server/),
    });
  });

  it('reef start starts a private redis-server under the data directory, others find it, and it stops by pid', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'reef-redis-'));
    const messages: string[] = [];
    const handle = await resolveRedis({
      url,
      explicit: false,
      dataDir,
      mayStartPrivate: true,
      log: (m) => messages.push(m),
    });
    try {
      expect(handle.location).toEqual({ kind: 'socket', path: privateSocketPath(dataDir) });
      expect(handle.privateServer?.pid).toEqual(expect.any(Number));
      expect(messages.join('\n')).toMatch(
        /started a private redis-server \(pid \d+\) with its data in .*redis/,
      );
      const client = handle.connect();
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      client.disconnect();

      const other = await resolveRedis({ url, explicit: false, dataDir, mayStartPrivate: false });
      expect(other.location).toEqual(handle.location);
      expect(other.privateServer).toBeUndefined();
    } finally {
      await handle.stop();
    }
    expect(handle.privateServer!.exitCode !== null || handle.privateServer!.signalCode !== null).toBe(true);
  });

  it('never prints a Redis password', () => {
    expect(redact('redis://user:s3cret@host:6379/0')).toBe('redis://user:***@host:6379/0');
    expect(redact('redis://host:6379')).toBe('redis://host:6379');
  });
});
