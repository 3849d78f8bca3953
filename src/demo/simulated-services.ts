import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const MiB = 1024 * 1024;
const DAY_MS = 86_400_000;

/**
 * The demo's simulated world, all on loopback or in its own folder: a service that flaps, a TLS endpoint
 * ten days from expiry, a "disk" 92 % full and a log with an error spike. Nothing here touches the real
 * machine beyond the demo folder; every piece is labelled a simulation where a human sees it.
 */
export interface SimulatedService {
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
}

/**
 * An HTTP service that is down for `downMs`, then up for `upMs`, over and over (starting down): enough
 * openings within the flap window make Reef report it as flapping once, then stay quiet.
 */
export async function flappingService(upMs: number, downMs: number): Promise<SimulatedService> {
  const started = Date.now();
  const server = createHttpServer((_req, res) => {
    const phase = (Date.now() - started) % (upMs + downMs);
    const up = phase >= downMs;
    res.writeHead(up ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(up ? 'ok (simulated service)\n' : 'upstream unavailable (simulated outage)\n');
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/health`, close: closer(server) };
}

/**
 * A TLS endpoint whose certificate (from a private demo CA) expires in `days` days. Needs `openssl`;
 * returns undefined when it is missing, and the demo says it left the certificate out.
 */
export async function expiringTlsEndpoint(
  dir: string,
  days: number,
): Promise<(SimulatedService & { caFile: string }) | undefined> {
  try {
    await execFileAsync('openssl', ['version']);
  } catch {
    return undefined;
  }
  await mkdir(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  const ssl = (args: string[]) => execFileAsync('openssl', args, { cwd: dir });
  await ssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem'].concat([
      '-days',
      '30',
      '-subj',
      '/CN=Reef demo CA (simulation)',
    ]),
  );
  await ssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'shop.key', '-out', 'shop.csr'].concat([
      '-subj',
      '/CN=shop.demo.localhost',
    ]),
  );
  await writeFile(file('ext.cnf'), 'subjectAltName=DNS:shop.demo.localhost,IP:127.0.0.1\n');
  await ssl(
    ['x509', '-req', '-in', 'shop.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      'shop.pem',
      '-days',
      String(days),
      '-extfile',
      'ext.cnf',
    ]),
  );
  const server = createHttpsServer(
    { key: await readFile(file('shop.key')), cert: await readFile(file('shop.pem')) },
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('shop (simulated TLS endpoint)\n');
    },
  );
  const port = await listen(server);
  return { url: `https://127.0.0.1:${port}/`, caFile: file('ca.pem'), close: closer(server) };
}

/** The simulated disk's size: `df` in the demo reports this, and what the demo folder really holds. */
export const DEMO_DISK_KIB = 40 * 1024;

/**
 * A folder playing a 40 MiB filesystem filled to about 92 %: old temp files, old compressed logs and
 * backups (what disk-cleanup removes), a live log, and recent data that must survive. A `df` placed
 * first on the demo's PATH reports the folder's real usage against the simulated size; every other
 * command (`du`, `find`, `rm`, `dd`, `gzip`) is the real one, acting on real files.
 */
export async function fullDisk(root: string, binDir: string): Promise<{ mount: string; binDir: string }> {
  const mount = path.join(root, 'disk');
  const old = (days: number) => new Date(Date.now() - days * DAY_MS);
  const put = async (rel: string, bytes: number, mtime?: Date) => {
    const file = path.join(mount, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, Buffer.alloc(bytes, 0x2e));
    if (mtime) await utimes(file, mtime, mtime);
  };
  for (let i = 0; i < 6; i++) await put(`tmp/upload-${i}.tmp`, 2 * MiB, old(10));
  for (let i = 0; i < 5; i++) await put(`var/log/app.log.2026090${i}.gz`, 2 * MiB, old(40));
  for (let i = 0; i < 2; i++) await put(`var/backups/db-2026090${i}.sql.gz`, 4 * MiB, old(45));
  await put('data/orders.db', Math.round(3.7 * MiB));
  const lines = Array.from(
    { length: 120_000 },
    (_, i) =>
      `2026-11-28T03:${String(Math.floor(i / 2000) % 60).padStart(2, '0')}:00Z INFO request ${i} served\n`,
  ).join('');
  await mkdir(path.join(mount, 'var/log'), { recursive: true });
  await writeFile(path.join(mount, 'var/log/app.log'), lines.slice(0, 4 * MiB));

  await mkdir(binDir, { recursive: true });
  const df = path.join(binDir, 'df');
  await writeFile(df, dfScript(mount, binDir));
  await chmod(df, 0o755);
  return { mount, binDir };
}

/** `df -P` / `df -Pi` for the demo mount (SIMULATED size), the real df for anything else. */
function dfScript(mount: string, binDir: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh
# Reef demo (SIMULATION): reports ${mount} as a ${DEMO_DISK_KIB} KiB filesystem holding what the folder
# really holds; any other path goes to the real df.
mount=${q(mount)}
last=
for arg in "$@"; do last=$arg; done
if [ "$last" != "$mount" ]; then
  PATH=$(printf %s "$PATH" | tr ':' '\\n' | grep -vx ${q(binDir)} | paste -sd: -)
  exec df "$@"
fi
size=${DEMO_DISK_KIB}
used=$(du -sk -- "$mount" | cut -f1)
avail=$((size - used)); [ "$avail" -lt 0 ] && avail=0
pct=$(( (used * 100 + size - 1) / size ))
case "$1" in
-Pi) echo "Filesystem Inodes IUsed IFree IUse% Mounted on"; echo "demo-disk 10240 120 10120 2% $mount" ;;
*) echo "Filesystem 1024-blocks Used Available Capacity Mounted on"; echo "demo-disk $size $used $avail $pct% $mount" ;;
esac
`;
}

/**
 * A log with a steady trickle of errors for six hours, then a burst in the last one: an error-rate spike
 * (spike = 3x the usual rate within the window).
 */
export async function spikingLog(file: string, now = new Date()): Promise<void> {
  const lines: string[] = [];
  const hour = 3_600_000;
  for (let h = 7; h >= 1; h--) {
    const errors = h === 1 ? 90 : 8;
    for (let i = 0; i < errors + 40; i++) {
      const at = new Date(now.getTime() - h * hour + Math.floor(((i + 0.5) * hour) / (errors + 40)));
      const error = i % Math.ceil((errors + 40) / errors) === 0;
      lines.push(
        error
          ? `${at.toISOString()} ERROR payment gateway timeout after 30000ms order=${1000 + i}`
          : `${at.toISOString()} INFO checkout completed order=${1000 + i}`,
      );
    }
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${lines.join('\n')}\n`);
}
