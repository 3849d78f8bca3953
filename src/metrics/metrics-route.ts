import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { errorMessage } from '../errors.js';

export const METRICS_PATH = '/metrics';

/**
 * `GET /metrics` in Prometheus' text format (0.0.4), from this process's counters and the scrape-time
 * reads of shared state. Returns true when it answered the request.
 */
export function metricsRoute(
  registries: readonly Registry[],
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const merged = Registry.merge([...registries]);
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://reef').pathname;
    if (path !== METRICS_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end(`${req.method} ${METRICS_PATH} is not supported: Prometheus scrapes it with GET.\n`);
      return true;
    }
    merged.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': merged.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics could not be collected: ${errorMessage(error)}\n`);
      },
    );
    return true;
  };
}
