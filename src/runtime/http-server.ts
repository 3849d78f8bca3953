import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Runtime } from './runtime.js';

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  checks: Record<string, { ok: boolean; detail: string }>;
}

/** What `/healthz` asks Redis about the whole deployment (see metrics/observed-queues.ts). */
export interface HealthProbes {
  /** The Job Schedulers (sweep, brainstorm) missing from Redis, by name. */
  missingSchedulers(): Promise<string[]>;
  /** Workers connected to each queue, across all processes. */
  workers(): Promise<Record<string, number>>;
}

/**
 * Reef's own health, each part named so a 503 says what is wrong: Redis answers; the sweep and
 * brainstorm Job Schedulers exist (a scheduler upserted them); workers are connected to the checks and
 * executions queues (somewhere: any process may run them); the roles of this process run.
 */
export async function healthReport(
  rt: Pick<Runtime, 'connection' | 'redis'>,
  roles: readonly string[],
  probes: HealthProbes,
): Promise<HealthReport> {
  const checks: HealthReport['checks'] = {};
  try {
    await rt.connection.ping();
    checks.redis = { ok: true, detail: rt.redis.label };
  } catch (error) {
    checks.redis = { ok: false, detail: `Redis unreachable: ${(error as Error).message}` };
  }
  const skipped = { ok: false, detail: 'not checked: Redis is unreachable' };
  if (!checks.redis.ok) {
    checks.schedulers = skipped;
    checks.workers = skipped;
  } else {
    try {
      const missing = await probes.missingSchedulers();
      checks.schedulers =
        missing.length === 0
          ? { ok: true, detail: 'sweep and brainstorm schedulers present' }
          : {
              ok: false,
              detail: `no ${missing.join(' or ')} scheduler in Redis: is a \`reef scheduler\` (or \`reef start\`) running?`,
            };
    } catch (error) {
      checks.schedulers = { ok: false, detail: (error as Error).message };
    }
    try {
      const workers = await probes.workers();
      const idle = ['checks', 'executions'].filter((q) => (workers[q] ?? 0) === 0);
      const counts = Object.entries(workers)
        .map(([q, n]) => `${n} on ${q}`)
        .join(', ');
      checks.workers =
        idle.length === 0
          ? { ok: true, detail: counts }
          : {
              ok: false,
              detail: `no worker on the ${idle.join(' and ')} queue${idle.length > 1 ? 's' : ''} (${counts}): is a \`reef worker\` (or \`reef start\`) running?`,
            };
    } catch (error) {
      checks.workers = { ok: false, detail: (error as Error).message };
    }
  }
  checks.roles = { ok: roles.length > 0, detail: roles.join(', ') || 'none' };
  return { status: Object.values(checks).every((c) => c.ok) ? 'ok' : 'unhealthy', checks };
}

/** Routes tried in order until one answers (Slack's `/slack/events`, `/alertmanager`, `/metrics`). */
export function firstRoute(
  ...routes: ((req: IncomingMessage, res: ServerResponse) => boolean)[]
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => routes.some((route) => route(req, res));
}

/**
 * Serves `GET /healthz` (200 healthy, 503 not, JSON naming each part) on loopback or all interfaces,
 * and whatever `extra` claims (the Slack surface's `/slack/events`: it returns true for its paths).
 */
export async function startHttpServer(
  port: number,
  host: string,
  report: () => Promise<HealthReport>,
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (extra?.(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://reef');
    // For orchestrators: /livez says the process answers (restart it only if not), /readyz that it can
    // do its own work (Redis reachable, its roles running). /healthz is the whole deployment's health,
    // for humans and monitoring: it also fails when no worker or scheduler runs anywhere, which must
    // not make Kubernetes restart or unroute the processes that are fine.
    if (req.method === 'GET' && url.pathname === '/livez') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"alive"}');
      return;
    }
    if (req.method === 'GET' && url.pathname === '/readyz') {
      report().then(
        (r) => {
          const ready = Boolean(r.checks.redis?.ok && r.checks.roles?.ok);
          res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              status: ready ? 'ready' : 'not ready',
              checks: { redis: r.checks.redis, roles: r.checks.roles },
            }),
          );
        },
        (error: unknown) => {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'not ready', error: String(error) }));
        },
      );
      return;
    }
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
