import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient } from '../../src/adapters/http-client.js';
import { exitCodeFor, latencyHintsFrom, probeKey, runSweep } from '../../src/checks/sweep.js';
import { configSchema } from '../../src/config/schema.js';
import type { Finding } from '../../src/findings/finding.js';
import { testContext } from '../helpers/context.js';
import { startHttpServer, type TestHttpServer } from '../helpers/http-server.js';

describe('sweep', () => {
  let server: TestHttpServer;
  let http: HttpClient;
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    http = createHttpClient();
    server = await startHttpServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const status = req.url?.startsWith('/bad') ? 500 : 200;
      setTimeout(() => {
        inFlight--;
        res.writeHead(status).end();
      }, 40);
    });
  });
  afterAll(async () => {
    await http.close();
    await server.close();
  });

  const config = (n: number, concurrency: number) =>
    configSchema.parse({
      sweep: { concurrency },
      checks: {
        http: Array.from({ length: n }, (_, i) => ({
          name: `t${i}`,
          url: `${server.url}/${i === 1 ? 'bad' : 'ok'}/${i}`,
          retries: 0,
        })),
      },
    });

  it('probes every target with at most `concurrency` in flight', async () => {
    maxInFlight = 0;
    const result = await runSweep(config(12, 3), testContext({ http }));
    expect(result.probed).toBe(12);
    expect(result.findings).toHaveLength(12);
    expect(result.findings.map((f) => f.target)).toEqual(Array.from({ length: 12 }, (_, i) => `t${i}`));
    expect(maxInFlight).toBe(3);
    expect(result.findings.filter((f) => f.severity === 'critical').map((f) => f.target)).toEqual(['t1']);
    expect(exitCodeFor(result)).toBe(2);
  });

  it('a check that throws is a check error; the rest of the sweep carries on', async () => {
    const failing: HttpClient = {
      attempt: (options) =>
        options.url.includes('/ok/2') ? Promise.reject(new Error('adapter exploded')) : http.attempt(options),
      close: async () => {},
    };
    const result = await runSweep(config(4, 2), testContext({ http: failing }));
    expect(result.errors).toEqual([{ check: 'http', target: 't2', message: 'adapter exploded' }]);
    expect(result.findings.map((f) => f.target)).toEqual(['t0', 't1', 't3']);
  });

  it('a probe that never settles is abandoned at the deadline and reported', async () => {
    const hanging: HttpClient = {
      attempt: (options) => (options.url.includes('/ok/0') ? new Promise(() => {}) : http.attempt(options)),
      close: async () => {},
    };
    const result = await runSweep(config(2, 2), testContext({ http: hanging }), { probeDeadlineMs: 200 });
    expect(result.errors).toEqual([
      { check: 'http', target: 't0', message: 'the check did not finish within 200 ms' },
    ]);
    expect(result.findings.map((f) => f.target)).toEqual(['t1']);
  });

  it('with latency history, the slowest probes start first; results keep configuration order', async () => {
    const arrivals: string[] = [];
    const recorder = await startHttpServer((req, res) => {
      arrivals.push(req.url ?? '');
      res.writeHead(200).end();
    });
    const cfg = configSchema.parse({
      sweep: { concurrency: 1 },
      checks: {
        http: ['a', 'b', 'c', 'd'].map((n) => ({ name: n, url: `${recorder.url}/${n}`, retries: 0 })),
      },
    });
    const context = testContext({ http });
    const first = await runSweep(cfg, context);
    expect(arrivals).toEqual(['/a', '/b', '/c', '/d']);
    expect([...latencyHintsFrom(first).keys()]).toEqual(['a', 'b', 'c', 'd'].map((n) => probeKey('http', n)));

    arrivals.length = 0;
    const hints = new Map([
      [probeKey('http', 'a'), 5],
      [probeKey('http', 'b'), 900],
      [probeKey('http', 'd'), 40],
    ]);
    const second = await runSweep(cfg, context, { latencyHints: hints });
    // No history for c: it may be slow, so it goes first; then b (900 ms), d (40 ms), a (5 ms).
    expect(arrivals).toEqual(['/c', '/b', '/d', '/a']);
    expect(second.findings.map((f) => f.target)).toEqual(['a', 'b', 'c', 'd']);
    await recorder.close();
  });

  it('can be limited to one target by name', async () => {
    const result = await runSweep(config(5, 2), testContext({ http }), { only: 't3' });
    expect(result.probed).toBe(1);
    expect(result.findings.map((f) => f.target)).toEqual(['t3']);
    expect(result.only).toBe('t3');
  });
});

describe('exit codes (Nagios plugin convention)', () => {
  const f = (severity: Finding['severity']) => ({ severity }) as Finding;
  const err = { check: 'http' as const, target: 'x', message: 'boom' };
  it.each([
    [[f('ok')], [], 0],
    [[f('ok'), f('warning')], [], 1],
    [[f('warning'), f('critical')], [], 2],
    [[f('ok')], [err], 3],
    [[f('warning')], [err], 3],
    [[f('critical')], [err], 2],
    [[], [], 0],
  ] as const)('%j with %j errors → %i', (findings, errors, code) => {
    expect(exitCodeFor({ findings: [...findings], errors: [...errors] })).toBe(code);
  });
});
