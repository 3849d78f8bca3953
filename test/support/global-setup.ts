import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/**
 * Tests need a real Redis. Use REDIS_URL (default 127.0.0.1:6379); if nothing answers and
 * `redis-server` is installed, start a private one on a free loopback port and stop it by pid at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (await answers(url)) {
    project.provide('redisUrl', url);
    return async () => {};
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'reef-test-redis-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  let child: ChildProcess;
  try {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    throw new Error(
      `No Redis answers at ${url} and redis-server could not be started: install redis-server or set REDIS_URL.`,
    );
  }
  const privateUrl = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await answers(privateUrl)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await answers(privateUrl))) {
    child.kill('SIGTERM');
    throw new Error(`No Redis answers at ${url} and the private redis-server on port ${port} did not start.`);
  }
  project.provide('redisUrl', privateUrl);
  return async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  };
}

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
