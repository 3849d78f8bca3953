import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { StandInMessage, StandInPorts, StandInSpec } from './stand-ins.js';

// Child entry of `startStandIns`: receives a StandInSpec over IPC, listens, answers with the ports.
// Loopback only. It lives exactly as long as the IPC channel: the parent kills it by pid, and a parent
// that dies takes the channel (and so this process) with it.

const send = (message: StandInMessage) => process.send?.(message);

process.once('message', (spec: StandInSpec) => {
  start(spec).then(
    (ports) => send({ kind: 'ready', ports }),
    (error: unknown) => {
      send({ kind: 'failed', error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
});
process.once('disconnect', () => process.exit(0));
process.once('SIGTERM', () => process.exit(0));

async function start(spec: StandInSpec): Promise<StandInPorts> {
  const httpPorts: number[] = [];
  for (let i = 0; i < spec.httpServers; i++) httpPorts.push(await listen(httpServer()));

  // One TLS engine behind one plain TCP listener per endpoint: a slow endpoint holds the raw socket
  // before the TLS server reads the ClientHello. (An SNICallback delay would never fire here: the
  // certificate check sends no SNI to an IP address.)
  const engine = tls.createServer({
    cert: readFileSync(spec.tls.certFile),
    key: readFileSync(spec.tls.keyFile),
  });
  engine.on('tlsClientError', () => {});
  engine.on('secureConnection', (socket) => socket.on('error', () => {}));
  const tlsPorts: number[] = [];
  for (const delayMs of spec.tls.handshakeDelaysMs) {
    const front = net.createServer((socket) => {
      socket.on('error', () => {});
      if (delayMs > 0) setTimeout(() => engine.emit('connection', socket), delayMs);
      else engine.emit('connection', socket);
    });
    tlsPorts.push(await listen(front));
  }
  return { httpPorts, tlsPorts };
}

function httpServer(): http.Server {
  return http.createServer((req, res) => {
    const delayMs = Number(new URL(req.url ?? '/', 'http://stand-in').searchParams.get('delayMs') ?? 0);
    const answer = () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
