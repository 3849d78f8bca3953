import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningCli, runCli } from '../helpers/cli.js';
import { closedPort, startHttpServer, type TestHttpServer } from '../helpers/http-server.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';
import {
  daysFrom,
  issueCert,
  makeCa,
  makeTempDir,
  removeDir,
  startTlsServer,
} from '../helpers/tls-fixtures.js';

describe('reef CLI', () => {
  let server: TestHttpServer;
  let dir: string;
  let healthy = true;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'reef-cli-'));
    server = await startHttpServer((req, res) => {
      if (req.url === '/flaky') res.writeHead(healthy ? 200 : 503).end();
      else if (req.url === '/down') res.writeHead(500).end();
      else res.writeHead(200).end('ok');
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const writeConfig = (name: string, body: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, body);
    return file;
  };

  describe('check --once (no Redis needed)', () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:1' };

    it('all ok: exit 0 and a table', async () => {
      const file = writeConfig('ok.yaml', `checks:\n  http:\n    - { name: api, url: "${server.url}/ok" }\n`);
      const r = await runCli(['check', '--once', '--config', file], { env });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/SEVERITY\s+CHECK\s+TARGET\s+CONDITION\s+SUMMARY/);
      expect(r.stdout).toMatch(/OK\s+http\s+api\s+ok\s+HTTP 200/);
      expect(r.stdout).toMatch(/1 target in \d+ ms: 1 ok, 0 warning, 0 critical, 0 check errors/);
    });

    it('--json prints exactly one document of the documented shape; critical exits 2', async () => {
      const file = writeConfig(
        'mixed.yaml',
        `checks:\n  http:\n    - { name: api, url: "${server.url}/ok" }\n    - { name: db, url: "${server.url}/down", retries: 0 }\n`,
      );
      const r = await runCli(['check', '--once', '--json', '-c', file], { env });
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout);
      expect(Object.keys(doc)).toEqual(['findings', 'errors']);
      expect(doc.errors).toEqual([]);
      expect(doc.findings).toHaveLength(2);
      for (const f of doc.findings) {
        expect(Object.keys(f)).toEqual([
          'check',
          'target',
          'condition',
          'severity',
          'summary',
          'fingerprint',
          'facts',
          'observedAt',
        ]);
      }
      expect(doc.findings.map((f: { target: string; severity: string }) => [f.target, f.severity])).toEqual([
        ['api', 'ok'],
        ['db', 'critical'],
      ]);
    });

    it('a warning (certificate due in 10 days) exits 1', async () => {
      const tlsDir = await makeTempDir('cli');
      const ca = await makeCa(tlsDir);
      const leaf = await issueCert({
        ca,
        dir: tlsDir,
        commonName: '127.0.0.1',
        altNames: ['IP:127.0.0.1'],
        notBefore: daysFrom(new Date(), -1),
        notAfter: daysFrom(new Date(), 10),
      });
      const tlsServer = await startTlsServer({ key: leaf.key, cert: leaf.cert });
      try {
        const file = writeConfig(
          'warn.yaml',
          `checks:\n  http:\n    - { name: api, url: "${server.url}/ok" }\n  certificates:\n    - { name: tls, url: "${tlsServer.url}", caFile: "${ca.certPath}" }\n`,
        );
        const r = await runCli(['check', '--once', '-c', file], { env });
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(
          /WARNING\s+certificate\s+tls\s+expiring\s+certificate expires in (9|10) days/,
        );
        expect(r.stdout).toMatch(/2 targets in \d+ ms: 1 ok, 1 warning, 0 critical/);
      } finally {
        await tlsServer.close();
        await removeDir(tlsDir);
      }
    });

    it('a check error exits 3 and is listed under errors, not findings', async () => {
      const file = writeConfig(
        'err.yaml',
        `checks:\n  certificates:\n    - { name: tls, url: "https://127.0.0.1:${await closedPort()}", caFile: /nonexistent/ca.pem }\n`,
      );
      const r = await runCli(['check', '--once', '--json', '-c', file], { env });
      expect(r.code).toBe(3);
      const doc = JSON.parse(r.stdout);
      expect(doc.findings).toEqual([]);
      expect(doc.errors).toEqual([
        { check: 'certificate', target: 'tls', message: expect.stringMatching(/caFile/) },
      ]);
    });

    it('a config error exits 3, still prints one JSON document, and lists every problem on stderr', async () => {
      const file = writeConfig(
        'bad.yaml',
        'checks:\n  http:\n    - { name: a, url: nope, timeoutMs: -1 }\n  pings: []\n',
      );
      const r = await runCli(['check', '--once', '--json', '-c', file], { env });
      expect(r.code).toBe(3);
      expect(JSON.parse(r.stdout)).toEqual({
        findings: [],
        errors: [{ check: 'config', target: 'config', message: expect.stringMatching(/3 problems/) }],
      });
      expect(r.stderr).toMatch(/checks\.http\[0\]\.url: Invalid URL/);
      expect(r.stderr).toMatch(/checks\.http\[0\]\.timeoutMs: must be a positive number/);
      expect(r.stderr).toMatch(/checks\.pings: unknown key/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });

    it('a missing config file says which and how to fix it', async () => {
      const r = await runCli(['check', '--once', '-c', path.join(dir, 'nope.yaml')], { env });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/error: Config file not found: .*nope\.yaml/);
      expect(r.stderr).toMatch(/hint: --config names a file that does not exist/);
    });
  });

  describe('config validate', () => {
    it('summarises a valid file and exits 0', async () => {
      const file = writeConfig(
        'v.yaml',
        `timezone: Europe/Berlin\nchecks:\n  http:\n    - { name: api, url: "${server.url}/ok" }\n`,
      );
      const r = await runCli(['config', 'validate', '-c', file]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /is valid: 1 target \(1 http\), sweeps "\*\/15 \* \* \* \*" in Europe\/Berlin/,
      );
    });
    it('lists every problem and exits 2', async () => {
      const file = writeConfig('iv.yaml', 'timezone: Nowhere/Land\nschedule: { checks: "soon" }\n');
      const r = await runCli(['config', 'validate', '-c', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/line 1: timezone: unknown time zone/);
      expect(r.stderr).toMatch(/line 2: schedule\.checks: invalid cron pattern/);
    });
  });

  it('an unreachable Redis is a clear message, not a stack trace', async () => {
    const r = await runCli(['status'], { env: { REDIS_URL: `redis://127.0.0.1:${await closedPort()}` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: Redis is not reachable at redis:\/\/127\.0\.0\.1:\d+/);
    expect(r.stderr).toMatch(/hint: Check REDIS_URL/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reef start with an unreachable explicit REDIS_URL starts nothing and exits non-zero', async () => {
    const r = await runCli(['start'], {
      env: { REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, REEF_HTTP_PORT: '0' },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/Reef is running/);
  });

  describe('reef start and the commands that talk to it', () => {
    let reef: RunningCli;
    let redis: Redis;
    const prefix = uniquePrefix('cli');
    let file: string;
    const env = () => ({ REDIS_URL: redisUrl(), REEF_HTTP_PORT: '0', REEF_DATA_DIR: path.join(dir, 'data') });

    beforeAll(async () => {
      redis = connect();
      healthy = false;
      file = writeConfig(
        'start.yaml',
        `timezone: Europe/Berlin\nredis: { prefix: ${prefix} }\nchecks:\n  http:\n    - { name: api, url: "${server.url}/ok" }\n    - { name: flaky, url: "${server.url}/flaky", retries: 0 }\n`,
      );
      reef = new RunningCli(['start', '--config', file], { env: env() });
      await reef.waitFor(/Reef is running/);
    });
    afterAll(async () => {
      await reef.stop();
      await dropPrefix(redis, prefix);
      redis.disconnect();
    });

    it('runs a first sweep at once and prints the incident on the console', async () => {
      await reef.waitFor(/CRITICAL #1 http\/flaky bad-status: HTTP 503, expected 200/);
      expect(reef.stdout).toMatch(/→ reef approve 1\s+reef dismiss 1/);
      expect(reef.stdout).not.toMatch(/http\/api/);
    });

    it('reef status shows the schedule in local time, the workers, the last sweep and open incidents', async () => {
      const r = await runCli(['status', '-c', file], { env: env() });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /sweep\s+\*\/15 \* \* \* \*\s+next \d{4}-\d\d-\d\d \d\d:\d[05] CET \(in \d+[sm]\)/,
      );
      expect(r.stdout).toMatch(/Workers online: 1/);
      expect(r.stdout).toMatch(
        /Last sweep: .*2 probed: 1 ok, 0 warning, 1 critical, 0 check errors \(boot\)/,
      );
      expect(r.stdout).toMatch(/Open incidents: 1/);
      expect(r.stdout).toMatch(/#1\s+escalated\s+CRITICAL\s+http\/flaky\s+bad-status/);
    });

    it('reef check (through the queue) asks the running Reef and prints its findings', async () => {
      const r = await runCli(['check', '--json', '-c', file], { env: env() });
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout);
      expect(doc.findings.map((f: { target: string }) => f.target)).toEqual(['api', 'flaky']);
      const one = await runCli(['check', 'api', '-c', file], { env: env() });
      expect(one.code).toBe(0);
      expect(one.stdout).toMatch(/1 target in/);
    });

    it('an open incident is not announced again on the next sweep', async () => {
      expect(reef.stdout.match(/CRITICAL #1/g)).toHaveLength(1);
    });

    it('no runbook matches: the incident escalates with its context, and reef approve refuses it', async () => {
      await reef.waitFor(
        /ESCALATED #1 http\/flaky bad-status: no runbook matches http bad-status: a human decides — http\/flaky bad-status: HTTP 503/,
      );
      const r = await runCli(['approve', '1', '-c', file], { env: env() });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /Incident #1 is escalated, not awaiting approval: there is nothing to approve/,
      );
      const list = await runCli(['incidents', '--json', '-c', file], { env: env() });
      expect(JSON.parse(list.stdout).incidents.map((i: { state: string }) => i.state)).toEqual(['escalated']);
    });

    it('an unknown incident id is a clear error', async () => {
      const r = await runCli(['dismiss', '999', '-c', file], { env: env() });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/No incident "999"/);
      expect(r.stderr).toMatch(/reef incidents/);
    });

    it('recovery resolves the incident with its duration', async () => {
      healthy = true;
      const r = await runCli(['check', '-c', file], { env: env() });
      expect(r.code).toBe(0);
      await reef.waitFor(/RESOLVED #1 http\/flaky bad-status after \d+s \(target healthy again\)/);
      const list = await runCli(['incidents', '-c', file], { env: env() });
      expect(list.stdout).toMatch(/No open incidents/);
      const all = await runCli(['incidents', '--all', '-c', file], { env: env() });
      expect(all.stdout).toMatch(/#1\s+resolved after \d+s/);
    });

    it('reef dismiss closes a new incident and the console says who did it', async () => {
      healthy = false;
      await runCli(['check', '-c', file], { env: env() });
      await reef.waitFor(/CRITICAL #2 http\/flaky/);
      const r = await runCli(['dismiss', '2', '--reason', 'planned maintenance', '-c', file], { env: env() });
      expect(r.code).toBe(0);
      await reef.waitFor(/DISMISSED #2 http\/flaky by cli:\S+: planned maintenance/);
      await runCli(['check', '-c', file], { env: env() });
      expect(reef.stdout).not.toMatch(/#3/);
      const again = await runCli(['dismiss', '2', '-c', file], { env: env() });
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/Incident #2 is dismissed: it cannot be dismissed/);
    });

    it('serves /healthz naming each part', async () => {
      const port = Number(reef.stdout.match(/Health: http:\/\/127\.0\.0\.1:(\d+)\/healthz/)![1]);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
      expect(body.status).toBe('ok');
      expect(Object.keys(body.checks)).toEqual(['redis', 'schedulers', 'workers', 'roles']);
      // For orchestrators: the process answers, and can do its own work.
      const live = await fetch(`http://127.0.0.1:${port}/livez`);
      expect([live.status, await live.json()]).toEqual([200, { status: 'alive' }]);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { status: string }).status).toBe('ready');
    });

    it('SIGTERM lets running work finish and exits 0', async () => {
      expect(await reef.stop()).toBe(0);
      expect(reef.stderr).toMatch(/SIGTERM: finishing running jobs/);
      expect(reef.stderr).toMatch(/Reef stopped/);
      const r = await runCli(['check', '-c', file, '--timeout', '5'], { env: env() });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/No Reef worker is running/);
      expect(r.stderr).toMatch(/reef check --once/);
    });
  });
});
