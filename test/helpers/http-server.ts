import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestHttpServer {
  url: string;
  port: number;
  /** Requests received so far, by path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 (random port); the handler sees the per-path hit count (1-based). */
export async function startHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse, hit: number) => void,
): Promise<TestHttpServer> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const key = req.url ?? '/';
    const hit = (hits.get(key) ?? 0) + 1;
    hits.set(key, hit);
    handler(req, res, hit);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
