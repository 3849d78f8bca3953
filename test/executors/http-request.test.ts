import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequestExecutor as step } from '../../src/executors/http-request.js';
import { closedPort, startHttpServer, type TestHttpServer } from '../helpers/http-server.js';
import { bounds, refusal, runStep, stepContext } from '../helpers/step-context.js';

describe('http.request against a loopback server', () => {
  let server: TestHttpServer;
  const received: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = await startHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (req.url === '/hang') return; // never answers
        if (req.url === '/teapot') return void res.writeHead(418).end('short and stout');
        res.writeHead(req.url === '/created' ? 201 : 204).end();
      });
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const context = () => stepContext({});

  it('POSTs a JSON body with the given headers; a 2xx is success', async () => {
    const ctx = context();
    const result = await runStep(
      step,
      {
        url: `${server.url}/deploy?ref=main`,
        headers: { 'X-Reef-Incident': 'inc-42' },
        body: { action: 'restart', pod: 'web-1' },
      },
      ctx,
    );
    expect(result).toMatchObject({
      ok: true,
      summary: `POST ${server.url}/deploy?ref=*** answered 204`,
      data: { status: 204 },
    });
    const last = received.at(-1)!;
    expect(last).toMatchObject({
      method: 'POST',
      url: '/deploy?ref=main',
      body: '{"action":"restart","pod":"web-1"}',
    });
    expect(last.headers).toMatchObject({
      'content-type': 'application/json',
      'x-reef-incident': 'inc-42',
      'user-agent': 'reef/0.1',
    });
    expect(ctx.lines).toEqual([`calling POST ${server.url}/deploy?ref=***`]);
  });

  it('a status other than the expected one fails the step, with the response excerpt', async () => {
    const teapot = await runStep(
      step,
      { url: `${server.url}/teapot`, method: 'PUT', body: 'text' },
      context(),
    );
    expect(teapot).toMatchObject({
      ok: false,
      summary: `PUT ${server.url}/teapot answered 418 (expected 2xx)`,
      output: 'short and stout',
    });
    const created = await runStep(
      step,
      { url: `${server.url}/created`, expectStatus: [200, 201] },
      context(),
    );
    expect(created.ok).toBe(true);
    const strict = await runStep(step, { url: `${server.url}/created`, expectStatus: 200 }, context());
    expect(strict.summary).toMatch(/answered 201 \(expected 200\)$/);
  });

  it('a silent server fails at the timeout; an unreachable one fails at once', async () => {
    const hung = await runStep(
      step,
      { url: `${server.url}/hang`, method: 'DELETE', timeout: '300ms' },
      context(),
    );
    expect(hung).toMatchObject({
      ok: false,
      summary: `DELETE ${server.url}/hang failed: no answer within 300 ms`,
    });
    const port = await closedPort();
    const down = await runStep(step, { url: `http://127.0.0.1:${port}/x` }, context());
    expect(down).toMatchObject({
      ok: false,
      summary: expect.stringMatching(/failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/),
    });
  });

  it('only http and https, no body on GET, no header injection; credentials masked in the description', () => {
    expect(refusal(step, { url: 'file:///etc/passwd' })).toBe('url: must be an http:// or https:// URL');
    expect(refusal(step, { url: 'gopher://127.0.0.1/x' })).toMatch(/^url:/);
    expect(refusal(step, { url: 'http://127.0.0.1/', method: 'GET', body: 'x' })).toBe(
      'body: a GET request cannot have a body',
    );
    expect(refusal(step, { url: 'http://127.0.0.1/', headers: { 'X-A': 'v\r\nX-Injected: 1' } })).toMatch(
      /newline/,
    );
    expect(refusal(step, { url: 'http://127.0.0.1/', timeout: '10m' })).toMatch(/^timeout:/);
    const params = step.schema.parse({
      url: 'https://bot:hunter2@hooks.example/services/run?token=abc&ref=main',
      headers: { Authorization: 'Bearer s3cr3t', 'X-Env': 'lab' },
      body: { a: 1 },
    });
    const described = step.describe(params, bounds());
    expect(described).toBe(
      'POST https://***@hooks.example/services/run?token=***&ref=***; headers Authorization: ***, X-Env: lab; body 7 bytes (application/json); expect 2xx; timeout 10s',
    );
    expect(described).not.toMatch(/hunter2|s3cr3t|abc/);
  });
});
