import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient } from '../../src/adapters/http-client.js';
import { httpCheck } from '../../src/checks/http.js';
import { httpTargetSchema } from '../../src/config/schema.js';
import { fingerprintOf } from '../../src/findings/finding.js';
import { testContext } from '../helpers/context.js';
import { closedPort, startHttpServer, type TestHttpServer } from '../helpers/http-server.js';

describe('http check against real loopback servers', () => {
  let server: TestHttpServer;
  let http: HttpClient;
  const context = () => testContext({ http });

  beforeAll(async () => {
    http = createHttpClient();
    server = await startHttpServer((req, res, hit) => {
      switch (req.url) {
        case '/ok':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","version":"1.2.3"}');
          return;
        case '/down':
          res.writeHead(503).end('maintenance');
          return;
        case '/hang':
          return; // never answers
        case '/blip':
          if (hit === 1) res.writeHead(502).end('bad gateway');
          else res.writeHead(200).end('fine');
          return;
        case '/created':
          res.writeHead(201).end();
          return;
        default:
          res.writeHead(404).end();
      }
    });
  });
  afterAll(async () => {
    await http.close();
    await server.close();
  });

  const target = (over: Record<string, unknown>) =>
    httpTargetSchema.parse({ name: 'api', retryDelayMs: 20, timeoutMs: 2000, ...over });

  it('a 200 is ok, with status and latency in the facts', async () => {
    const [finding, ...rest] = await httpCheck.probe(target({ url: `${server.url}/ok` }), context());
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ check: 'http', target: 'api', condition: 'ok', severity: 'ok' });
    expect(finding!.facts.status).toBe(200);
    expect(finding!.facts.latencyMs).toEqual(expect.any(Number));
    expect(finding!.facts.attempts).toBe(1);
    expect(finding!.facts.transient).toBe(false);
    expect(finding!.fingerprint).toBe(fingerprintOf('http', 'api', 'ok'));
    expect(Number.isNaN(Date.parse(finding!.observedAt))).toBe(false);
  });

  it('a persistent 503 is critical bad-status after every retry', async () => {
    const before = server.hits.get('/down') ?? 0;
    const [finding] = await httpCheck.probe(target({ url: `${server.url}/down`, retries: 2 }), context());
    expect(finding).toMatchObject({ condition: 'bad-status', severity: 'critical' });
    expect(finding!.summary).toMatch(/HTTP 503, expected 200 \(3 attempts\)/);
    expect(server.hits.get('/down')! - before).toBe(3);
    expect(finding!.facts.failedAttempts).toHaveLength(3);
  });

  it('a failure that recovers within the retries is a transient blip: ok, with the failed attempt recorded', async () => {
    const [finding] = await httpCheck.probe(target({ url: `${server.url}/blip`, retries: 2 }), context());
    expect(finding).toMatchObject({ condition: 'ok', severity: 'ok' });
    expect(finding!.facts.transient).toBe(true);
    expect(finding!.facts.failedAttempts).toEqual([
      expect.objectContaining({ attempt: 1, condition: 'bad-status', detail: 'HTTP 502, expected 200' }),
    ]);
    expect(finding!.summary).toMatch(/transient blip/);
  });

  it('with no retries the same blip is a failure', async () => {
    const fresh = `${server.url}/blip?no-retry`;
    const [finding] = await httpCheck.probe(target({ url: fresh, retries: 0 }), context());
    expect(finding).toMatchObject({ condition: 'bad-status', severity: 'critical' });
  });

  it('an endpoint that never answers is a timeout', async () => {
    const [finding] = await httpCheck.probe(
      target({ url: `${server.url}/hang`, timeoutMs: 150, retries: 1 }),
      context(),
    );
    expect(finding).toMatchObject({ condition: 'timeout', severity: 'critical' });
    expect(finding!.summary).toMatch(/no answer within 150 ms/);
  });

  it('a closed port is unreachable', async () => {
    const port = await closedPort();
    const [finding] = await httpCheck.probe(
      target({ url: `http://127.0.0.1:${port}/`, retries: 1 }),
      context(),
    );
    expect(finding).toMatchObject({ condition: 'unreachable', severity: 'critical' });
    expect(finding!.summary).toMatch(/ECONNREFUSED/);
  });

  it('matches the body against a regular expression', async () => {
    const ok = await httpCheck.probe(
      target({ url: `${server.url}/ok`, bodyMatch: '"status":"ok"' }),
      context(),
    );
    expect(ok[0]!.condition).toBe('ok');
    const bad = await httpCheck.probe(
      target({ url: `${server.url}/ok`, bodyMatch: 'version":"2\\.', retries: 0 }),
      context(),
    );
    expect(bad[0]).toMatchObject({ condition: 'body-mismatch', severity: 'critical' });
  });

  it('accepts a list of expected statuses', async () => {
    const [finding] = await httpCheck.probe(
      target({ url: `${server.url}/created`, expectStatus: [200, 201] }),
      context(),
    );
    expect(finding!.condition).toBe('ok');
    const [wrong] = await httpCheck.probe(target({ url: `${server.url}/created`, retries: 0 }), context());
    expect(wrong!.condition).toBe('bad-status');
  });
});
