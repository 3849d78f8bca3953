import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../src/runbooks/location.js';
import { render } from '../../src/runbooks/render.js';
import { formatProblem } from '../../src/runbooks/runbook.js';

describe('the runbooks shipped in runbooks/', () => {
  /**
   * Against the real registry: this passes once every executor the built-ins use is registered
   * (kubernetes.deletePod, files.rotateLogs, files.cleanup, certbot.renew, kubernetes.applyTlsSecret).
   */
  it('the built-in runbooks lint clean', () => {
    const catalog = loadCatalog(BUNDLED_RUNBOOKS_DIR);
    const problems = [...catalog.errors, ...catalog.warnings].map((p) =>
      formatProblem(p, BUNDLED_RUNBOOKS_DIR),
    );
    expect(problems).toEqual([]);
    expect(catalog.runbooks.map((r) => [r.id, r.mode])).toEqual([
      ['certificate-renewal', 'approve'],
      ['disk-cleanup', 'approve'],
      ['log-rotation', 'approve'],
      ['pod-restart', 'approve'],
    ]);
    for (const runbook of catalog.runbooks) {
      // Prose for the humans who approve: when, what, what not, how it verifies.
      expect(runbook.prose, runbook.id).toMatch(
        /## When to use it[\s\S]*## What it does[\s\S]*## What it does not do[\s\S]*## How it verifies/,
      );
      expect(readFileSync(runbook.file, 'utf8')).toContain(`id: ${runbook.id}`);
    }
    // The seed's three incidents each find their runbook.
    const ids = (subject: Parameters<typeof catalog.match>[0]) => catalog.match(subject).map((r) => r.id);
    expect(
      ids({
        check: 'pods',
        target: 'shop/web-7d9f8b6c5-x2x4z',
        condition: 'CrashLoopBackOff',
        severity: 'critical',
      }),
    ).toEqual(['pod-restart']);
    expect(
      ids({ check: 'disk', target: 'web-1:/var', condition: 'disk-critical', severity: 'critical' }),
    ).toEqual(['disk-cleanup', 'log-rotation']);
    expect(ids({ check: 'disk', target: 'web-1:/var', condition: 'disk-high', severity: 'warning' })).toEqual(
      ['log-rotation'],
    );
    expect(
      ids({ check: 'certificate', target: 'shop-tls', condition: 'expiring', severity: 'warning' }),
    ).toEqual(['certificate-renewal']);
    expect(catalog.get('pod-restart')!.escalation).toEqual({
      afterRuns: 3,
      message: 'pods of {{facts.ownerName}} keep crashing: consider a memory limit increase or a code fix',
    });
  });

  it("render the seed's incidents into the exact calls", () => {
    const catalog = loadCatalog(BUNDLED_RUNBOOKS_DIR);
    const calls = (id: string, incident: Parameters<typeof render>[1]) => {
      const result = render(catalog.get(id)!, incident);
      if (result.status !== 'ok') throw new Error(JSON.stringify(result.problems));
      return { steps: result.steps.map((s) => s.description), message: result.escalationMessage };
    };
    const pod = calls('pod-restart', {
      id: '1',
      check: 'pods',
      target: 'shop/web-7d9f8b6c5-x2x4z',
      condition: 'CrashLoopBackOff',
      facts: {
        cluster: 'home',
        namespace: 'shop',
        pod: 'web-7d9f8b6c5-x2x4z',
        ownerKind: 'Deployment',
        ownerName: 'web',
      },
    });
    expect(pod).toEqual({
      steps: [
        'POST /api/v1/namespaces/shop/pods/web-7d9f8b6c5-x2x4z/eviction (policy/v1 Eviction) on cluster home',
      ],
      message: 'pods of web keep crashing: consider a memory limit increase or a code fix',
    });
    const disk = {
      id: '2',
      check: 'disk' as const,
      target: 'web-1:/var',
      condition: 'disk-critical',
      facts: { host: 'web-1', mount: '/var' },
    };
    const cleanup = calls('disk-cleanup', disk).steps;
    expect(cleanup).toHaveLength(5);
    // Rotation last: its copies need the room the four deletions made.
    expect(cleanup[4]).toMatch(
      /^on web-1: for each regular file of at least 10 MiB matching \/var\/log\/\*\.log, \/var\/log\/\*\/\*\.log, \/var\/log\/syslog, \/var\/log\/messages: copy to/,
    );
    expect(calls('log-rotation', disk).steps[0]).toMatch(
      /^on web-1: for each regular file of at least 50 MiB matching \/var\/log\/\*\.log/,
    );
    const cert = calls('certificate-renewal', {
      id: '3',
      check: 'certificate',
      target: 'shop-tls',
      condition: 'expiring',
      facts: { url: 'https://shop.example.org', daysLeft: 10 },
    });
    expect(cert.steps[0]).toMatch(/^on edge: certbot renew .*--cert-name shop-tls/);
    expect(cert.steps[1]).toContain('/api/v1/namespaces/ingress/secrets/shop-tls');
    expect(cert.message).toBe('certificate shop-tls renewed; the renewal cron did not run: fix it');
  });
});
