import { afterEach, describe, expect, it } from 'vitest';
import { type HealthReport, startHttpServer } from '../../src/runtime/http-server.js';

/** /livez, /readyz and /healthz answer different questions; a broken deployment must not kill a fine pod. */
describe('health endpoints', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function serve(report: HealthReport | Error) {
    const http = await startHttpServer(0, '127.0.0.1', async () => {
      if (report instanceof Error) throw report;
      return report;
    });
    close = http.close;
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${http.port}${path}`);
      return { status: res.status, body: (await res.json()) as { status: string } };
    };
    return get;
  }

  it('no worker anywhere: /healthz is 503, but this pod stays live and ready', async () => {
    const get = await serve({
      status: 'unhealthy',
      checks: {
        redis: { ok: true, detail: 'redis://127.0.0.1:6379' },
        workers: { ok: false, detail: 'no worker on the checks queue' },
        roles: { ok: true, detail: 'scheduler' },
      },
    });
    expect(await get('/healthz')).toMatchObject({ status: 503, body: { status: 'unhealthy' } });
    expect(await get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(await get('/livez')).toEqual({ status: 200, body: { status: 'alive' } });
  });

  it('Redis unreachable: not ready (and unhealthy), still live; a failing report is not ready either', async () => {
    const get = await serve({
      status: 'unhealthy',
      checks: {
        redis: { ok: false, detail: 'Redis unreachable: connect ECONNREFUSED' },
        roles: { ok: true, detail: 'worker' },
      },
    });
    expect(await get('/readyz')).toMatchObject({
      status: 503,
      body: { status: 'not ready', checks: { redis: { ok: false } } },
    });
    expect((await get('/livez')).status).toBe(200);
    await close?.();
    const broken = await serve(new Error('boom'));
    expect(await broken('/readyz')).toMatchObject({ status: 503, body: { status: 'not ready' } });
  });
});
