import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { diskCheck } from '../../src/checks/disk.js';
import { DfParseError, largestDirectories, parseDf, rowsForPaths } from '../../src/checks/parse-df.js';
import { runSweep } from '../../src/checks/sweep.js';
import { configSchema, type DiskTarget, type ReefConfigInput } from '../../src/config/schema.js';
import type { Finding } from '../../src/findings/finding.js';
import { createCheckContext } from '../../src/runtime/check-context.js';
import { sshdUnavailable, startSshd, type TestSshd } from '../fixtures/sshd.js';
import { runCli } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { closedPort } from '../helpers/http-server.js';
import { tmpfsUnavailable } from '../helpers/tmpfs.js';

const execFileAsync = promisify(execFile);
const KiB = 1024;

describe('df output parsing (recorded real output)', () => {
  it('GNU df -P: long device names, a mount point with spaces', () => {
    const table = parseDf(
      [
        'Filesystem     1024-blocks     Used Available Capacity Mounted on',
        '/dev/vda         264212084 24501684  81889228      24% /',
        '/dev/mapper/vg--very--long--volume--group--name-root--logical--volume 102687672 48934216 48494192      51% /srv',
        'tmpfs                 4096  3600       496      88% /tmp/tmp.VyacTt7RRU/m x',
        '',
      ].join('\n'),
    );
    expect(table.unit).toBe(1024);
    expect(table.rows.map((r) => [r.filesystem, r.mount, r.percent])).toEqual([
      ['/dev/vda', '/', 24],
      ['/dev/mapper/vg--very--long--volume--group--name-root--logical--volume', '/srv', 51],
      ['tmpfs', '/tmp/tmp.VyacTt7RRU/m x', 88],
    ]);
    expect(table.rows[2]).toMatchObject({ total: 4096, used: 3600, available: 496 });
  });

  it('BusyBox and BSD headers, 512-byte blocks, a wrapped device name, `-` columns', () => {
    const busybox = parseDf(
      'Filesystem           1024-blocks    Used Available Capacity Mounted on\noverlay                 61255492  9441244  48672924  16% /\n',
    );
    expect(busybox.rows[0]).toMatchObject({ filesystem: 'overlay', mount: '/', percent: 16 });
    const bsd = parseDf(
      'Filesystem   512-blocks      Used Available Capacity  Mounted on\n/dev/disk3s1s1  965595304  19180048 495236400     4%    /\nmap auto_home           0         0         0   100%    /System/Volumes/Data/home\n',
    );
    expect(bsd.unit).toBe(512);
    expect(bsd.rows[1]).toMatchObject({ filesystem: 'map auto_home', mount: '/System/Volumes/Data/home' });
    const wrapped = parseDf(
      'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/mapper/very-long-name\n              102687672 48934216 48494192      51% /srv\n',
    );
    expect(wrapped.rows).toEqual([
      {
        filesystem: '/dev/mapper/very-long-name',
        mount: '/srv',
        total: 102687672,
        used: 48934216,
        available: 48494192,
        percent: 51,
      },
    ]);
    const inodes = parseDf(
      'Filesystem     Inodes IUsed IFree IUse% Mounted on\n/dev/sdb1           0     0     0     - /data\n',
    );
    expect(inodes.rows[0]).toMatchObject({ mount: '/data', percent: null });
  });

  it('anything else is an error naming the offending line', () => {
    const text =
      'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 100 50 50 50% /\nweird output here\n';
    expect(() => parseDf(text)).toThrow(DfParseError);
    expect(() => parseDf(text)).toThrow('line 3: "weird output here"');
    expect(() => parseDf('Dateisystem 1K-Blöcke Benutzt Verfügbar Verw% Eingehängt auf\n')).toThrow(/line 1/);
  });

  it('maps paths to rows by order, or by the longest mount prefix when df merged lines', () => {
    const rows = parseDf(
      'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/a 10 1 9 10% /\n/dev/b 10 5 5 50% /var\n',
    ).rows;
    expect(rowsForPaths(rows, ['/var/log', '/srv', '/variety']).map((r) => r?.mount)).toEqual([
      '/var',
      '/',
      '/',
    ]);
  });

  it('du: the largest directories under the mount, biggest first, the mount itself left out', () => {
    const du = '200\t/m x/small\n3000\t/m x/big\nnonsense\n3800\t/m x\n';
    expect(largestDirectories(du, '/m x', 5)).toEqual([
      { path: '/m x/big', sizeBytes: 3000 * KiB },
      { path: '/m x/small', sizeBytes: 200 * KiB },
    ]);
  });
});

const skipReason = (await tmpfsUnavailable()) ?? sshdUnavailable();
if (skipReason) console.warn(`skipping disk tests on real filesystems: ${skipReason}`);

describe.skipIf(skipReason)('disk check on tmpfs filesystems the test mounts', () => {
  let base: string;
  const mounted: string[] = [];
  let sshd: TestSshd;
  const fs = { ok: '', warn: '', crit: '', inodes: '' };

  const mount = async (name: string, options: string) => {
    const dir = path.join(base, name);
    await mkdir(dir);
    await execFileAsync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    mounted.push(dir);
    return dir;
  };
  const fill = (file: string, kib: number) => writeFile(file, Buffer.alloc(kib * KiB));

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'reef-disk-'));
    fs.ok = await mount('ok', 'size=4m');
    fs.warn = await mount('warn', 'size=4m');
    await fill(path.join(fs.warn, 'fill'), 3560); // 87 % of 4096 KiB
    fs.crit = await mount('crit x', 'size=4m'); // a space in the mount point
    await mkdir(path.join(fs.crit, 'big'));
    await mkdir(path.join(fs.crit, 'small'));
    await fill(path.join(fs.crit, 'big', 'blob'), 3000);
    await fill(path.join(fs.crit, 'small', 'blob'), 200);
    await fill(path.join(fs.crit, 'loose'), 600); // 3800 KiB: 93 %
    fs.inodes = await mount('inodes', 'size=4m,nr_inodes=20');
    for (let i = 0; i < 18; i++) await writeFile(path.join(fs.inodes, `f${i}`), ''); // 19 of 20: 95 %
    sshd = await startSshd();
  });

  afterAll(async () => {
    await sshd?.stop();
    for (const dir of mounted.reverse()) await execFileAsync('umount', [dir]).catch(() => {});
    if (base) await rm(base, { recursive: true, force: true });
  });

  const hosts = (): ReefConfigInput['hosts'] => ({
    self: { local: true },
    box: {
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKeyPath: sshd.clientKeyPath,
      hostKeyFingerprint: sshd.hostKeyFingerprint,
    },
  });
  const target = (host: string, name?: string) => ({
    ...(name ? { name } : {}),
    host,
    paths: [fs.ok, fs.warn, fs.crit, path.join(fs.crit, 'big'), fs.inodes],
    warnPercent: 85,
    actPercent: 90,
    inodeWarnPercent: 90,
  });
  const summary = (findings: Finding[]) =>
    findings.map((f) => [f.target, f.condition, f.severity, f.facts.usedPercent]);

  for (const host of ['self', 'box'] as const) {
    it(`reports ok, disk-high, disk-critical (with the largest directories) and inodes-high (${host === 'self' ? 'local' : 'over SSH'})`, async () => {
      const config = { hosts: hosts(), checks: { disk: [target(host)] } };
      const context = testContext({ config });
      try {
        const parsed = configSchema.parse(config).checks.disk[0] as DiskTarget;
        const findings = await diskCheck.probe(parsed, context);
        expect(summary(findings)).toEqual([
          [`${host}:${fs.ok}`, 'ok', 'ok', 0],
          [`${host}:${fs.warn}`, 'disk-high', 'warning', 87],
          [`${host}:${fs.crit}`, 'disk-critical', 'critical', 93],
          [`${host}:${fs.inodes}`, 'inodes-high', 'warning', 0],
        ]);
        const crit = findings[2]!;
        expect(crit.facts).toMatchObject({
          host,
          mount: fs.crit,
          path: fs.crit,
          paths: [fs.crit, path.join(fs.crit, 'big')],
          usedBytes: 3800 * KiB,
          availableBytes: 296 * KiB,
          sizeBytes: 4096 * KiB,
          largestDirectories: [
            { path: path.join(fs.crit, 'big'), sizeBytes: 3000 * KiB },
            { path: path.join(fs.crit, 'small'), sizeBytes: 200 * KiB },
          ],
          largestDirectoriesNote: null,
        });
        expect(crit.summary).toMatch(/at 93% .* ≥ 90%; largest: .*\/big 2\.9 MiB/);
        expect(findings[3]!.facts.inodesUsedPercent).toBe(95);
        expect(findings[1]!.facts.inodesUsedPercent).toBe(1);
      } finally {
        await context.close();
      }
    });
  }

  it('one SSH connection per host for the whole sweep, however many targets use it', async () => {
    const config = configSchema.parse({
      hosts: hosts(),
      checks: { disk: [target('box', 'a'), target('box', 'b'), target('box', 'c')] },
    });
    const before = sshd.logins();
    const { context, close } = createCheckContext(config, { clock: systemClock });
    try {
      const result = await runSweep(config, context);
      expect(result.errors).toEqual([]);
      expect(result.findings).toHaveLength(12);
    } finally {
      await close();
    }
    expect(sshd.logins() - before).toBe(1);
  });

  describe('reef check --once --json', () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:1' };
    const yaml = (config: unknown) => JSON.stringify(config); // JSON is YAML

    it('end to end: findings per mount; an unreachable host is a check error, the rest carries on', async () => {
      const file = path.join(base, 'reef.yaml');
      const down = await closedPort();
      await writeFile(
        file,
        yaml({
          hosts: {
            ...hosts(),
            gone: { host: '127.0.0.1', port: down, username: 'root', privateKeyPath: sshd.clientKeyPath },
          },
          checks: {
            disk: [
              { host: 'self', paths: [fs.warn, fs.crit], warnPercent: 85, actPercent: 90 },
              { host: 'box', paths: [fs.ok] },
              { host: 'gone', paths: ['/'] },
            ],
          },
        }),
      );
      const r = await runCli(['check', '--once', '--json', '-c', file], { env });
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout);
      expect(doc.findings.map((f: Finding) => [f.check, f.target, f.condition])).toEqual([
        ['disk', `self:${fs.warn}`, 'disk-high'],
        ['disk', `self:${fs.crit}`, 'disk-critical'],
        ['disk', `box:${fs.ok}`, 'ok'],
      ]);
      expect(doc.findings[1].facts.largestDirectories[0].path).toBe(path.join(fs.crit, 'big'));
      expect(doc.errors).toEqual([
        {
          check: 'disk',
          target: 'gone',
          message: `cannot reach gone (127.0.0.1:${down}): connection refused`,
        },
      ]);
    });

    it('a df printing something unexpected is a check error quoting the line', async () => {
      const bin = path.join(base, 'fake-bin');
      await mkdir(bin, { recursive: true });
      // A df that does not speak POSIX -P output, first on PATH for the reef process (a `local` host).
      await writeFile(
        path.join(bin, 'df'),
        '#!/bin/sh\necho "Filesystem 1024-blocks Used Available Capacity Mounted on"\necho "tmpfs: 87 percent full"\n',
      );
      await chmod(path.join(bin, 'df'), 0o755);
      const file = path.join(base, 'fake-df.yaml');
      await writeFile(file, yaml({ hosts: { self: { local: true } }, checks: { disk: [{ host: 'self' }] } }));
      const r = await runCli(['check', '--once', '--json', '-c', file], {
        env: { ...env, PATH: `${bin}:${process.env.PATH}` },
      });
      expect(r.code).toBe(3);
      expect(JSON.parse(r.stdout)).toEqual({
        findings: [],
        errors: [
          {
            check: 'disk',
            target: 'self',
            message: 'unparsable df -P output from self, line 2: "tmpfs: 87 percent full"',
          },
        ],
      });
    });
  });
});
