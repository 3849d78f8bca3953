import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubePort, type KubePort } from '../../src/adapters/kubernetes.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { computeReport } from '../../src/brainstorm/compute.js';
import type { BrainstormDeps, BrainstormRun } from '../../src/brainstorm/run-brainstorm.js';
import { runBrainstorm } from '../../src/brainstorm/run-brainstorm.js';
import { windowEndingAt } from '../../src/brainstorm/window.js';
import { configSchema, type ReefConfig } from '../../src/config/schema.js';
import type { IncidentEvent } from '../../src/events/incident-event.js';
import { makeFinding } from '../../src/findings/finding.js';
import { incidentHistory, metricHistory } from '../../src/history/record-sweep.js';
import { type Incident, type IncidentState, transition } from '../../src/incidents/incident.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { rememberEvent } from '../../src/memory/memory-consumer.js';
import { MemoryRepo } from '../../src/memory/memory-repo.js';
import { NoticeBus } from '../../src/memory/notices.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../src/runbooks/location.js';
import { makeReplicaSet } from '../fixtures/kube-objects.js';
import { type FakeCluster, startFakeCluster } from '../fixtures/kubeconfig.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { connect, dropPrefix, uniquePrefix } from '../helpers/redis.js';
import { WEEK, weekConfig, writeWeek } from './week.js';

const HOUR = 3_600_000;
const MIN = 60_000;

describe('Nightly Brainstorm over a synthetic week written through the real Redis path', () => {
  let redis: Redis;
  let prefix: string;
  let cluster: FakeCluster;
  let kube: KubePort;
  let dir: string;
  let config: ReefConfig;
  let clock: FakeClock;
  let deps: BrainstormDeps;
  let run: BrainstormRun;
  let samples: number;

  beforeAll(async () => {
    redis = connect();
    prefix = uniquePrefix('brainstorm');
    dir = await mkdtemp(path.join(tmpdir(), 'reef-brainstorm-'));
    cluster = await startFakeCluster();
    const rs = (name: string, deployment: string, revision: number, createdAt: number) =>
      cluster.server.store.put(
        makeReplicaSet({
          name,
          namespace: 'apps',
          deployment,
          revision,
          createdAt: new Date(createdAt).toISOString(),
          podLabels: { app: deployment },
        }),
      );
    rs('web-5d8', 'web', 42, WEEK.rollout);
    rs('web-4c1', 'web', 41, WEEK.end - 20 * 86_400_000);
    rs('leaky-77', 'leaky', 3, WEEK.end - 30 * 86_400_000);
    config = configSchema.parse(weekConfig(cluster.kubeconfig));
    clock = new FakeClock(new Date(WEEK.end - 7 * 86_400_000).toISOString());
    samples = await writeWeek(redis, prefix, config, clock);

    const store = new IncidentStore(redis, prefix);
    const audit = new AuditLog(redis, prefix, { clock });
    const memory = new MemoryRepo({
      dir: path.join(dir, 'memory'),
      quarantineDir: path.join(dir, 'quarantine'),
      config: config.memory,
      clock,
      audit,
      notices: new NoticeBus(redis, prefix),
    });
    const incidents = incidentHistory(redis, prefix, config);
    const remember = (event: IncidentEvent) =>
      rememberEvent({ incidents, store, audit, memory, timezone: WEEK.tz }, event);
    await lifecycleIncidents(store, remember);
    await flappingShop(store, config, remember);
    await runbookAudit(audit);

    kube = createKubePort(config);
    const catalog = loadCatalog(BUNDLED_RUNBOOKS_DIR);
    clock.advance(WEEK.end - clock.now().getTime());
    deps = {
      config,
      clock,
      metrics: metricHistory(redis, prefix, config),
      incidents,
      store,
      audit,
      kube,
      modeOf: (id) => catalog.get(id)?.mode ?? null,
      redis,
      prefix,
      notices: new NoticeBus(redis, prefix),
      memory,
    };
    run = await runBrainstorm(deps, {
      window: windowEndingAt(new Date(WEEK.end), WEEK.tz),
      trigger: 'schedule',
      oncePerDate: true,
    });
  }, 120_000);

  afterAll(async () => {
    await kube?.close();
    await cluster?.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('recorded the week as compact hourly buckets', async () => {
    expect(samples).toBeGreaterThan(336 * 6);
    const series = await deps.metrics.series();
    expect(series.map((s) => s.id).sort()).toEqual(
      [
        'cert-days:api-tls',
        'disk-used:self%3A%2Fvar',
        'error-rate:checkout',
        'error-rate:web-errors',
        'http-latency:api',
        'http-latency:shop',
        'http-up:api',
        'http-up:shop',
        'oom-kills:lab%2Fapps%2Fleaky',
        'restarts:lab%2Fapps%2Fleaky',
      ].sort(),
    );
    const buckets = (
      await deps.metrics.buckets(['error-rate:checkout'], WEEK.end - 7 * 86_400_000, WEEK.end)
    ).get('error-rate:checkout')!;
    // Two sweeps an hour for 7 days: 168 hourly buckets of two samples each.
    expect(buckets).toHaveLength(168);
    expect(buckets.every((b) => b.n === 2)).toBe(true);
    const keys = await redis.keys(`${prefix}:history:m:error-rate:checkout:*`);
    expect(keys).toHaveLength(8);
    const ttl = await redis.pttl(keys.sort().at(-1)!);
    expect(ttl).toBeGreaterThan(35 * 86_400_000);
    expect(ttl).toBeLessThanOrEqual(36 * 86_400_000);
  });

  it('finds the 15 % error-rate drift of checkout over 7 days', () => {
    const checkout = run.report.errorDrift.find((d) => d.target === 'checkout')!;
    expect(checkout.changePercent).toBeGreaterThan(14);
    expect(checkout.changePercent).toBeLessThan(16);
    expect(checkout.start).toBeGreaterThan(98.5);
    expect(checkout.start).toBeLessThan(101.5);
    expect(checkout.end).toBeGreaterThan(113.5);
    expect(checkout.end).toBeLessThan(116.5);
    expect(checkout.points).toBe(168);
    expect(checkout.weekOverWeekPercent).toBeNull();
    expect(run.markdown).toMatch(
      /\| checkout \| (99|100)(\.\d+)? \/h \| 11[45](\.\d+)? \/h \| \+1[45](\.\d)? % \|/,
    );
    expect(run.report.latencyDrift.map((d) => d.target)).toEqual(['shop']);
    expect(run.report.latencyDrift[0]!.changePercent).toBeGreaterThan(28);
    expect(run.report.latencyDrift[0]!.changePercent).toBeLessThan(32);
  });

  it('forecasts the disk full in 4 days', () => {
    expect(run.report.disks).toHaveLength(1);
    const disk = run.report.disks[0]!;
    expect(disk.target).toBe('self:/var');
    expect(disk.usedPercent).toBe(80);
    expect(disk.growthPerDay).toBeGreaterThan(4.3);
    expect(disk.growthPerDay).toBeLessThan(4.7);
    expect(disk.daysToFull).toBeGreaterThanOrEqual(4);
    expect(disk.daysToFull).toBeLessThan(5);
    expect(run.markdown).toContain('| self:/var | 80 % |');
    expect(run.report.suggestions[0]!.title).toBe(
      'Disk self:/var will be full in 4 days: free space or grow it',
    );
  });

  it('puts the certificate due in 9 days on the calendar, dated in Berlin', () => {
    expect(run.report.certificates).toEqual([
      {
        target: 'api-tls',
        notAfter: new Date(WEEK.notAfter).toISOString(),
        date: '2026-12-07',
        daysLeft: 9.2,
        subject: 'CN=api.example.org',
      },
    ]);
    expect(run.markdown).toContain('| 2026-12-07 | api-tls | 9 days | CN=api.example.org |');
  });

  it('correlates the error-rate jump of web-errors with the rollout of web revision 42', () => {
    expect(run.report.deployments).toHaveLength(1);
    const row = run.report.deployments[0]!;
    expect(row).toMatchObject({
      cluster: 'lab',
      namespace: 'apps',
      deployment: 'web',
      revision: '42',
      metric: 'error-rate',
      series: 'web-errors',
      rolloutAt: new Date(WEEK.rollout).toISOString(),
    });
    expect(row.before).toBeCloseTo(20, 0);
    expect(row.after).toBeCloseTo(45, 0);
    expect(row.changePercent).toBeGreaterThan(120);
    expect(row.changePercent).toBeLessThan(130);
    const suggestion = run.report.suggestions.find((s) => s.section === 'deployments')!;
    expect(suggestion.title).toMatch(
      /^Error rate of web-errors up 12\d(\.\d)? % since rollout of web revision 42 at 2026-11-26 14:05 CET: consider a rollback or investigation$/,
    );
  });

  it('reads rollouts page by page, and a cluster it may not read is a note, not a failure', async () => {
    const paged = createKubePort(config, { pageSize: 1 });
    try {
      const window = windowEndingAt(new Date(WEEK.end), WEEK.tz);
      const again = await computeReport({ ...deps, kube: paged }, window);
      expect(again.deployments).toEqual(run.report.deployments);
      expect(cluster.server.count({ verb: 'list', resource: 'replicasets' })).toBeGreaterThanOrEqual(3 + 1);
      const undo = cluster.server.forbid({ verb: 'list', resource: 'replicasets' });
      try {
        const denied = await computeReport({ ...deps, kube: paged }, window);
        expect(denied.deployments).toEqual([]);
        expect(denied.notes.join('\n')).toMatch(
          /^Rollouts of lab\/apps could not be read \(forbidden: cannot list replicasets in namespace apps \(RBAC: grant list on replicasets\.apps to .*\)\); deploy correlation skips it\.$/m,
        );
        expect(denied.disks).toEqual(run.report.disks);
      } finally {
        undo();
      }
    } finally {
      await paged.close();
    }
  });

  it('proposes promoting pod-restart (5 approvals in a row, all verified) and lists the failed runbook', () => {
    expect(run.report.promotions).toEqual([{ runbookId: 'pod-restart', streak: 5, mode: 'approve' }]);
    expect(run.report.failedRunbooks.map((f) => [f.runbookId, f.failures])).toEqual([['disk-cleanup', 1]]);
    expect(run.markdown).toContain('Promote runbook pod-restart from approve to auto');
  });

  it('sees the slowly leaking workload by its rising OOM kills', () => {
    expect(run.report.restarts).toHaveLength(1);
    expect(run.report.restarts[0]).toMatchObject({
      workload: 'leaky',
      namespace: 'apps',
      oomPerDay: WEEK.oomPerDay,
      oom7d: 18,
      restarts7d: 18,
      oom24h: 5,
      leakSuspected: true,
    });
  });

  it('counts the last 24 hours of incidents and the flapping target', () => {
    expect(run.report.summary).toEqual({
      opened: 7,
      fixedAutomatically: 1,
      approved: 1,
      escalated: 1,
      dismissed: 1,
      resolved: 4,
      recoveredOnTheirOwn: 2,
      // Auto fix 10 min, approved fix 60 min, shop down 30 min twice.
      mttrMs: ((10 + 60 + 30 + 30) * MIN) / 4,
      openedByCheck: { http: 4, pods: 1, disk: 1, certificate: 1 },
    });
    expect(run.report.flapping).toEqual([
      expect.objectContaining({ check: 'http', target: 'shop', condition: 'unreachable', openings: 3 }),
    ]);
    expect(run.digest.summary).toContain(
      'Last 24 h: 7 incidents opened, 1 fixed automatically, 1 approved, 1 escalated, 1 dismissed; mean time to resolve 32m 30s (4 resolved).',
    );
  });

  it('writes the report into the memory git repository and posts the digest once for the date', async () => {
    expect(run.memory.status).toBe('committed');
    const repo = path.join(dir, 'memory');
    const committed = execFileSync('git', ['-C', repo, 'show', 'HEAD~1:brainstorm/2026-11-28.md'], {
      encoding: 'utf8',
    });
    expect(committed).toBe(run.markdown);
    const index = execFileSync('git', ['-C', repo, 'show', 'HEAD:index.md'], { encoding: 'utf8' });
    expect(index).toContain('- [2026-11-28](brainstorm/2026-11-28.md)');
    // The resolved and escalated incidents got their notes through the memory consumer's handler.
    expect(index).toMatch(/\[Incident #\d+: http\/shop unreachable — resolved\]/);
    expect(index).toMatch(/\[Incident #\d+: disk\/self:\/var disk-high — escalated\]/);
    const notices = await redis.xrange(`${prefix}:notices`, '-', '+');
    const digests = notices.map(([, f]) => JSON.parse(f[1]!)).filter((n) => n.kind === 'digest');
    expect(digests).toHaveLength(1);
    expect(digests[0].digest).toMatchObject({
      title: 'Nightly Brainstorm — 2026-11-28',
      path: 'brainstorm/2026-11-28.md',
    });

    const again = await runBrainstorm(deps, {
      window: windowEndingAt(new Date(WEEK.end), WEEK.tz),
      trigger: 'schedule',
      oncePerDate: true,
    });
    expect(again.memory.status).toBe('unchanged');
    expect(again.posted).toBe(false);
    expect(again.markdown).toBe(run.markdown);
    expect(await redis.xlen(`${prefix}:notices`)).toBe(notices.length);
  });
});

type Remember = (event: IncidentEvent) => Promise<void>;

function incidentAt(
  id: string,
  check: Incident['check'],
  target: string,
  condition: string,
  at: number,
): Incident {
  const iso = new Date(at).toISOString();
  const finding = makeFinding(
    { check, target, condition, severity: 'critical', summary: `${target} ${condition}`, facts: {} },
    new Date(at),
  );
  return {
    id,
    fingerprint: finding.fingerprint,
    check,
    target,
    condition,
    state: 'open',
    severity: 'critical',
    summary: finding.summary,
    facts: {},
    openedAt: iso,
    updatedAt: iso,
    lastSeenAt: iso,
    occurrences: 1,
    openingsInWindow: 1,
    flapping: false,
    history: [{ at: iso, state: 'open' }],
  };
}

/** Four incidents of the last 24 h, moved through the real lifecycle and recorded as their events. */
async function lifecycleIncidents(store: IncidentStore, remember: Remember): Promise<void> {
  const end = WEEK.end;
  const walk = async (
    incident: Incident,
    steps: [IncidentState, number, string | undefined, IncidentEvent['type']][],
  ) => {
    let current = incident;
    await store.save(current);
    await remember({ type: 'opened', incident: current, at: current.openedAt });
    for (const [state, at, by, type] of steps) {
      current = transition(current, state, new Date(at), by ? { by } : {});
      await store.save(current, state === 'resolved' ? { releaseFingerprint: true } : {});
      await remember({ type, incident: current, at: new Date(at).toISOString(), ...(by ? { by } : {}) });
    }
  };
  const a = end - 10 * HOUR;
  await walk(incidentAt('501', 'pods', 'apps/web-1', 'CrashLoopBackOff', a), [
    ['executing', a + MIN, 'reef', 'executing'],
    ['verifying', a + 2 * MIN, 'reef', 'verifying'],
    ['resolved', a + 10 * MIN, 'reef', 'resolved'],
  ]);
  const b = end - 8 * HOUR;
  await walk(incidentAt('502', 'http', 'api', 'timeout', b), [
    ['awaiting-approval', b + MIN, 'reef', 'awaiting-approval'],
    ['executing', b + 20 * MIN, 'cli:alice', 'executing'],
    ['verifying', b + 25 * MIN, 'reef', 'verifying'],
    ['resolved', b + 60 * MIN, 'reef', 'resolved'],
  ]);
  const c = end - 6 * HOUR;
  await walk(incidentAt('503', 'disk', 'self:/var', 'disk-high', c), [
    ['escalated', c + 5 * MIN, 'reef', 'escalated'],
  ]);
  const d = end - 5 * HOUR;
  await walk(incidentAt('504', 'certificate', 'api-tls', 'untrusted', d), [
    ['dismissed', d + 5 * MIN, 'cli:bob', 'dismissed'],
  ]);
}

/** shop goes down and comes back three times in the last 24 h, through the real tracker. */
async function flappingShop(store: IncidentStore, config: ReefConfig, remember: Remember): Promise<void> {
  const clock = new FakeClock(new Date(WEEK.end - 20 * HOUR).toISOString());
  const tracker = new IncidentTracker(store, clock);
  for (let round = 0; round < 3; round++) {
    for (const severity of ['critical', 'ok'] as const) {
      const finding = makeFinding(
        {
          check: 'http',
          target: 'shop',
          condition: severity === 'ok' ? 'ok' : 'unreachable',
          severity,
          summary: severity === 'ok' ? 'HTTP 200' : 'unreachable: ECONNREFUSED',
          facts: {},
        },
        clock.now(),
      );
      const events = await tracker.ingest(
        {
          outcomes: [
            {
              status: severity === 'ok' ? 'ok' : 'anomaly',
              check: 'http',
              target: 'shop',
              findings: [finding],
            },
          ],
          only: 'shop',
        },
        config,
      );
      for (const event of events) await remember(event);
      clock.advance(30 * MIN);
    }
    clock.advance(2 * HOUR);
  }
}

/** The audit record of runbook approvals over the week. */
async function runbookAudit(audit: AuditLog): Promise<void> {
  let at = WEEK.end - 6 * 86_400_000;
  const next = () => {
    at += 3 * HOUR;
    return new Date(at);
  };
  const approvalFlow = async (
    incidentId: string,
    proposed: string,
    approved: string,
    result: 'passed' | 'failed',
  ) => {
    const base = { actor: 'reef', incidentId, target: 'pods/apps/web-1' };
    await audit.record({
      ...base,
      action: 'approval-requested',
      runbookId: proposed,
      why: `runbook ${proposed}`,
      at: next(),
    });
    await audit.record({
      ...base,
      actor: 'cli:alice',
      action: 'approval',
      runbookId: approved,
      why: 'approved',
      at: next(),
    });
    await audit.record({
      ...base,
      action: 'verification',
      runbookId: approved,
      why: `verification ${result}`,
      details: { result },
      at: next(),
    });
  };
  for (let i = 0; i < 5; i++) await approvalFlow(`p${i}`, 'pod-restart', 'pod-restart', 'passed');
  // log-rotation: an alternative was chosen the third time, so only 2 clean approvals follow.
  for (let i = 0; i < 5; i++)
    await approvalFlow(
      `l${i}`,
      'log-rotation',
      i === 2 ? 'disk-cleanup' : 'log-rotation',
      i === 2 ? 'failed' : 'passed',
    );
}
