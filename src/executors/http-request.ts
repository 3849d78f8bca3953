import { z } from 'zod';
import { createHttpClient } from '../adapters/http-client.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import type { StepExecutor } from './executor.js';
import { excerpt } from './host-files.js';

const MAX_TIMEOUT_MS = 2 * 60_000;
const status = z.number().int().min(100).max(599);
/** Header names that carry credentials: shown as *** in previews and the audit. */
const SECRET_HEADER = /authorization|cookie|token|secret|key|signature|password/i;

const schema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    headers: z
      .record(
        z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name'),
        z.string().refine((v) => !/[\r\n\0]/.test(v), 'must not contain a newline or NUL'),
      )
      .default({}),
    /** Text as is, or an object sent as JSON. */
    body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    /** The status (or statuses) that mean success; default: any 2xx. */
    expectStatus: z.union([status, z.array(status).min(1)]).optional(),
    timeout: z
      .string()
      .refine((t) => {
        const ms = parseDuration(t);
        return ms !== undefined && ms > 0 && ms <= MAX_TIMEOUT_MS;
      }, 'must be a duration up to 2m, e.g. 10s')
      .default('10s'),
  })
  .refine((p) => p.body === undefined || p.method !== 'GET', {
    message: 'a GET request cannot have a body',
    path: ['body'],
  });

export type HttpRequestParams = z.output<typeof schema>;

/**
 * `http.request`: calls a webhook (a deploy hook, a CI trigger, a chat relay). Only http and https, a
 * bounded timeout, no redirects followed, strict TLS. Mutating: the far end may start something, so a
 * failed call is not blindly retried. Credentials in the URL or in secret-looking headers are masked in
 * descriptions and output.
 */
export const httpRequestExecutor: StepExecutor<HttpRequestParams> = {
  type: 'http.request',
  mutates: true,
  schema,
  describe(params) {
    const headers = Object.keys(params.headers).map(
      (h) => `${h}: ${SECRET_HEADER.test(h) ? '***' : params.headers[h]}`,
    );
    const body = encode(params.body);
    return [
      `${params.method} ${maskUrl(params.url)}`,
      ...(headers.length ? [`headers ${headers.join(', ')}`] : []),
      ...(body ? [`body ${Buffer.byteLength(body.text)} bytes${body.type ? ` (${body.type})` : ''}`] : []),
      `expect ${expected(params)}`,
      `timeout ${formatDuration(parseDuration(params.timeout)!)}`,
    ].join('; ');
  },
  async execute(params, context) {
    const body = encode(params.body);
    const hasType = Object.keys(params.headers).some((h) => h.toLowerCase() === 'content-type');
    const headers = {
      'user-agent': 'reef/0.1',
      ...(body?.type && !hasType ? { 'content-type': body.type } : {}),
      ...params.headers,
    };
    const client = createHttpClient();
    const what = `${params.method} ${maskUrl(params.url)}`;
    context.log(`calling ${what}`);
    try {
      const attempt = await client.attempt({
        url: params.url,
        method: params.method,
        headers,
        ...(body ? { body: body.text } : {}),
        timeoutMs: parseDuration(params.timeout)!,
        maxBodyBytes: 16 * 1024,
        insecureTls: false,
      });
      if (attempt.kind !== 'response') {
        return {
          ok: false,
          summary: `${what} failed: ${attempt.message}`,
          data: { latencyMs: attempt.latencyMs },
        };
      }
      const ok = matches(params, attempt.status);
      return {
        ok,
        summary: `${what} answered ${attempt.status}${ok ? '' : ` (expected ${expected(params)})`}`,
        output: excerpt(attempt.body, 2000),
        data: { status: attempt.status, latencyMs: attempt.latencyMs },
      };
    } finally {
      await client.close();
    }
  },
};

function encode(body: HttpRequestParams['body']): { text: string; type?: string } | undefined {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? { text: body } : { text: JSON.stringify(body), type: 'application/json' };
}

function matches(params: HttpRequestParams, code: number): boolean {
  const want = params.expectStatus;
  if (want === undefined) return code >= 200 && code < 300;
  return Array.isArray(want) ? want.includes(code) : want === code;
}

function expected(params: HttpRequestParams): string {
  const want = params.expectStatus;
  return want === undefined ? '2xx' : Array.isArray(want) ? want.join(' or ') : String(want);
}

/** The URL without its credentials: user info and query values become ***. */
function maskUrl(text: string): string {
  const url = new URL(text);
  if (url.username || url.password) {
    url.username = '***';
    url.password = '';
  }
  for (const key of [...new Set(url.searchParams.keys())]) url.searchParams.set(key, '***');
  return url.toString().replace(/%2A%2A%2A/g, '***');
}
