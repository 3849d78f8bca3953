import { Agent, request } from 'undici';

/** The outcome of one HTTP attempt, classified for the http check. */
export type HttpAttempt =
  | { kind: 'response'; status: number; body: string; latencyMs: number }
  | { kind: 'timeout'; latencyMs: number; message: string }
  | { kind: 'unreachable'; latencyMs: number; message: string };

export interface HttpAttemptOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Read at most this many bytes of body (for body matching); the rest is discarded. */
  maxBodyBytes: number;
  insecureTls: boolean;
  /** A request body (webhooks); none for probes. */
  body?: string;
}

export interface HttpClient {
  attempt(options: HttpAttemptOptions): Promise<HttpAttempt>;
  close(): Promise<void>;
}

/**
 * The one place Reef speaks HTTP (undici): monitored endpoints, and webhooks of `http.request` steps.
 * Connections are kept alive for the length of a sweep, so retries and neighbouring targets on one host
 * reuse them.
 */
export function createHttpClient(): HttpClient {
  const agents = {
    strict: new Agent({ keepAliveTimeout: 4000, connect: { rejectUnauthorized: true } }),
    insecure: new Agent({ keepAliveTimeout: 4000, connect: { rejectUnauthorized: false } }),
  };
  return {
    async attempt(options) {
      const started = performance.now();
      const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
      const signal = AbortSignal.timeout(options.timeoutMs);
      try {
        const response = await request(options.url, {
          method: options.method as 'GET',
          headers: { 'user-agent': 'reef-healthcheck/0.1', ...options.headers },
          ...(options.body === undefined ? {} : { body: options.body }),
          dispatcher: options.insecureTls ? agents.insecure : agents.strict,
          signal,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        });
        const body = await readBounded(response.body, options.maxBodyBytes);
        return { kind: 'response', status: response.statusCode, body, latencyMs: elapsed() };
      } catch (error) {
        const latencyMs = elapsed();
        if (isTimeout(error, signal)) {
          return { kind: 'timeout', latencyMs, message: `no answer within ${options.timeoutMs} ms` };
        }
        return { kind: 'unreachable', latencyMs, message: describeNetworkError(error) };
      }
    },
    async close() {
      await Promise.all([agents.strict.close(), agents.insecure.close()]);
    },
  };
}

async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= max) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

function isTimeout(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return true;
  const code = (error as { code?: unknown })?.code;
  const name = (error as { name?: unknown })?.name;
  return (typeof code === 'string' && code.includes('TIMEOUT')) || name === 'TimeoutError';
}

function describeNetworkError(error: unknown): string {
  const err = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err?.cause?.code ?? err?.code;
  const message = err?.cause?.message ?? err?.message ?? String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
