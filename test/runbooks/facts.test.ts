import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toKubePod } from '../../src/adapters/kube-objects.js';
import { certificateCheck } from '../../src/checks/certificate.js';
import { diskCheck } from '../../src/checks/disk.js';
import { errorLogsCheck } from '../../src/checks/error-logs.js';
import { httpCheck } from '../../src/checks/http.js';
import { podFindings } from '../../src/checks/pod-findings.js';
import {
  certificateTargetSchema,
  diskTargetSchema,
  errorLogTargetSchema,
  httpTargetSchema,
} from '../../src/config/schema.js';
import type { Finding } from '../../src/findings/finding.js';
import { CHECK_FACTS } from '../../src/runbooks/facts.js';
import { makePod } from '../fixtures/kube-objects.js';
import { testContext } from '../helpers/context.js';
import { startHttpServer, type TestHttpServer } from '../helpers/http-server.js';
import {
  daysFrom,
  issueCert,
  makeCa,
  makeTempDir,
  removeDir,
  startTlsServer,
  type TlsTestServer,
} from '../helpers/tls-fixtures.js';

/**
 * src/runbooks/facts.ts is written by hand from the checks' code; these tests run the real checks and
 * hold the list to what their findings carry, so lint never refuses a fact a check does produce (or
 * accepts one it has stopped producing).
 */
function expectFactsListed(finding: Finding): void {
  const table = CHECK_FACTS[finding.check].conditions[finding.condition];
  expect(table, `${finding.check} condition ${finding.condition} is listed`).toBeDefined();
  const listed = Object.keys(table!);
  expect(
    Object.keys(finding.facts).filter((k) => !listed.includes(k)),
    'facts not in facts.ts',
  ).toEqual([]);
  const always = Object.entries(table!)
    .filter(([, spec]) => spec.always)
    .map(([k]) => k);
  expect(
    always.filter((k) => !(k in finding.facts)),
    'facts.ts says always, the finding lacks',
  ).toEqual([]);
  for (const [name, spec] of Object.entries(table!)) {
    const value = finding.facts[name];
    if (value === undefined || value === null) continue;
    expect(Array.isArray(value) ? 'list' : typeof value === 'object' ? 'object' : 'scalar', name).toBe(
      spec.shape,
    );
  }
}

describe('facts.ts matches what the checks produce', () => {
  it('pods: every condition podFindings reports', () => {
    const now = new Date();
    const owner = { kind: 'ReplicaSet', name: 'web-7d9f8b6c5' };
    const pods = [
      makePod({
        name: 'crash',
        owner,
        containers: [{ name: 'app', state: 'CrashLoopBackOff', restartCount: 4 }],
      }),
      makePod({
        name: 'oom',
        owner,
        pvcs: ['data'],
        containers: [
          {
            name: 'app',
            restartCount: 2,
            lastTermination: { reason: 'OOMKilled', exitCode: 137, finishedAt: now },
          },
        ],
      }),
      makePod({ name: 'pull', containers: [{ name: 'app', state: 'ImagePullBackOff' }] }),
      makePod({ name: 'restarts', containers: [{ name: 'app', restartCount: 5 }] }),
      makePod({ name: 'pending', node: null, unschedulable: '0/3 nodes are available' }),
      makePod({ name: 'fine' }),
    ];
    const findings = pods.flatMap((pod) =>
      podFindings(toKubePod(pod), {
        cluster: 'home',
        now,
        pendingAfterMs: 60_000,
        previousRestarts: new Map([['app', 1]]),
      }),
    );
    expect(findings.map((f) => f.condition).sort()).toEqual(
      ['CrashLoopBackOff', 'ImagePullBackOff', 'OOMKilled', 'Pending', 'ok', 'restarting'].sort(),
    );
    for (const finding of findings) expectFactsListed(finding);
  });

  it('disk: a real df on this machine', async () => {
    const context = testContext({ config: { hosts: { me: { local: true } } } });
    try {
      const target = diskTargetSchema.parse({ host: 'me', paths: ['/'], warnPercent: 1, actPercent: 100 });
      const findings = await diskCheck.probe(target, context);
      expect(findings.length).toBeGreaterThan(0);
      for (const finding of findings) expectFactsListed(finding);
    } finally {
      await context.close();
    }
  });

  it('errorLogs: a real log file on this machine', async () => {
    const dir = await makeTempDir('runbook-facts-logs');
    const context = testContext({ config: { hosts: { me: { local: true } } } });
    try {
      const now = Date.now();
      const lines = Array.from({ length: 40 }, (_, i) => {
        const at = new Date(now - (40 - i) * 60_000).toISOString();
        return `${at} ${i % 2 ? 'ERROR' : 'INFO'} request ${i} failed`;
      });
      const file = path.join(dir, 'app.log');
      writeFileSync(file, `${lines.join('\n')}\n`);
      const target = errorLogTargetSchema.parse({ name: 'app', host: 'me', path: file, pattern: 'ERROR' });
      const findings = await errorLogsCheck.probe(target, context);
      expect(findings).toHaveLength(1);
      expectFactsListed(findings[0]!);
    } finally {
      await context.close();
      await removeDir(dir);
    }
  });

  describe('http and certificate against local servers', () => {
    let http: TestHttpServer;
    let tls: TlsTestServer;
    let dir: string;
    const context = testContext();

    beforeAll(async () => {
      http = await startHttpServer((req, res) => res.writeHead(req.url === '/down' ? 503 : 200).end('ok'));
      dir = await makeTempDir('runbook-facts');
      const ca = await makeCa(dir);
      const now = new Date();
      const cert = await issueCert({
        ca,
        dir,
        commonName: 'localhost',
        altNames: ['DNS:localhost', 'IP:127.0.0.1'],
        notBefore: daysFrom(now, -80),
        notAfter: daysFrom(now, 10),
      });
      tls = await startTlsServer(cert);
    });
    afterAll(async () => {
      await http?.close();
      await tls?.close();
      await context.close();
      if (dir) await removeDir(dir);
    });

    it('http: ok and bad-status', async () => {
      for (const route of ['/up', '/down']) {
        const target = httpTargetSchema.parse({ name: 'api', url: `${http.url}${route}`, retries: 0 });
        for (const finding of await httpCheck.probe(target, context)) expectFactsListed(finding);
      }
    });

    it('certificate: expiring (and untrusted), and unreachable', async () => {
      const expiring = await certificateCheck.probe(
        certificateTargetSchema.parse({ name: 'site', url: tls.url }),
        context,
      );
      expect(expiring.map((f) => f.condition)).toContain('expiring');
      const closed = await certificateCheck.probe(
        certificateTargetSchema.parse({ name: 'gone', url: 'https://127.0.0.1:1', timeoutMs: 2000 }),
        context,
      );
      expect(closed.map((f) => f.condition)).toEqual(['unreachable']);
      for (const finding of [...expiring, ...closed]) expectFactsListed(finding);
    });
  });
});
