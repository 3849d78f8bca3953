import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Runtime } from './runtime.js';

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  checks: Record<string, { ok: boolean; detail: string }>;
}

/** Reef's own health: Redis answers, the sweep schedule exists, the roles of this process run. */
export async function healthReport(
  rt: Runtime,
  roles: readonly string[],
  hasSchedule: () => Promise<boolean>,
): Promise<HealthReport> {
  const checks: HealthReport['checks'] = {};
  try {
    await rt.connection.ping();
    checks.redis = { ok: true, detail: rt.redis.label };
  } catch (error) {
    checks.redis = { ok: false, detail: (error as Error).message };
  }
  try {
    const present = checks.redis.ok && (await hasSchedule());
    checks.schedule = {
      ok: present,
      detail: present ? 'sweep scheduler present' : 'no sweep scheduler in Redis',
    };
  } catch (error) {
    checks.schedule = { ok: false, detail: (error as Error).message };
  }
  checks.roles = { ok: roles.length > 0, detail: roles.join(', ') || 'none' };
  return { status: Object.values(checks).every((c) => c.ok) ? 'ok' : 'unhealthy', checks };
}

/** Serves `GET /healthz` (200 healthy, 503 not, JSON naming each part) on loopback or all interfaces. */
export async function startHttpServer(
  port: number,
  host: string,
  report: () => Promise<HealthReport>,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://reef');
    if (req.method === 'GET' && url.pathname === '/healthz') {
      report().then(
        (r) => {
          res.writeHead(r.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify(r));
        },
        (error: unknown) => {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'unhealthy', error: String(error) }));
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
