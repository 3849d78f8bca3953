import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { configSchema } from '../../src/config/schema.js';
import { EventBus } from '../../src/events/event-bus.js';
import { decide } from '../../src/execution/decide.js';
import { executionsQueue } from '../../src/execution/queue.js';
import { makeFinding } from '../../src/findings/finding.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { runCli } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const RUNBOOKS = fileURLToPath(new URL('../../runbooks', import.meta.url));

/** `reef plan` and `reef approve` against incidents opened through the real tracker, with the bundled runbooks. */
describe('reef plan', () => {
  let redis: Redis;
  const prefix = uniquePrefix('plan');
  let file: string;
  const env = () => ({ REDIS_URL: redisUrl() });

  beforeAll(async () => {
    redis = connect();
    const dir = mkdtempSync(path.join(tmpdir(), 'reef-plan-'));
    file = path.join(dir, 'reef.yaml');
    writeFileSync(file, `redis: { prefix: ${prefix} }\nrunbooks: { dir: "${RUNBOOKS}" }\n`);
    const clock = new FakeClock();
    const tracker = new IncidentTracker(new IncidentStore(redis, prefix), clock);
    const pod = (name: string) =>
      makeFinding(
        {
          check: 'pods',
          target: `apps/${name}`,
          condition: 'CrashLoopBackOff',
          severity: 'critical',
          summary: 'back-off restarting failed container',
          facts: {
            cluster: 'home',
            namespace: 'apps',
            pod: name,
            container: 'web',
            ownerKind: 'Deployment',
            ownerName: 'web',
            restartCount: 7,
            stateful: false,
          },
        },
        clock.now(),
      );
    const http = makeFinding(
      {
        check: 'http',
        target: 'api',
        condition: 'bad-status',
        severity: 'critical',
        summary: 'HTTP 503',
        facts: { status: 503 },
      },
      clock.now(),
    );
    await tracker.ingest(
      {
        outcomes: [
          {
            status: 'anomaly',
            check: 'pods',
            target: 'home',
            findings: [pod('web-7d9f'), pod('web;rm -rf /')],
          },
          { status: 'anomaly', check: 'http', target: 'api', findings: [http] },
        ],
        only: null,
      },
      configSchema.parse({}),
    );
  });
  afterAll(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('shows the matching runbook, the decision of its mode and the exact API call', async () => {
    const r = await runCli(['plan', '1', '-c', file], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Runbook: pod-restart/);
    expect(r.stdout).toMatch(/Decision: ask a human to approve \(mode approve\)\. Steps:/);
    expect(r.stdout).toMatch(/1\. .*\/api\/v1\/namespaces\/apps\/pods\/web-7d9f\/eviction/);
    const json = JSON.parse((await runCli(['plan', '1', '--json', '-c', file], { env: env() })).stdout);
    expect(json).toMatchObject({ incident: '1', decision: 'ask', runbook: 'pod-restart' });
    expect(json.steps).toHaveLength(1);
  });

  it('refuses, and says why, when a fact holds shell metacharacters', async () => {
    const json = JSON.parse((await runCli(['plan', '2', '--json', '-c', file], { env: env() })).stdout);
    expect(json).toMatchObject({ decision: 'refuse', runbook: 'pod-restart' });
    expect(json.problems.join('\n')).toMatch(/facts\.pod "web;rm -rf \/"/);
    expect(json.steps).toBeUndefined();
  });

  it('escalates when no runbook matches', async () => {
    const r = await runCli(['plan', '3', '-c', file], { env: env() });
    expect(r.stdout).toMatch(/Decision: escalate — no runbook matches http bad-status: a human decides\./);
  });

  it('reef approve refuses an incident that is not awaiting approval, and changes nothing', async () => {
    const r = await runCli(['approve', '1', '-c', file], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Incident #1 is open, not awaiting approval: there is nothing to approve/);
    const list = JSON.parse((await runCli(['incidents', '--json', '-c', file], { env: env() })).stdout);
    expect(list.incidents.map((i: { state: string }) => i.state)).toEqual(['open', 'open', 'open']);
  });

  it('after the decision asks, reef approve audits the approval and queues one run; approving again is refused and audited', async () => {
    const store = new IncidentStore(redis, prefix);
    const queue = executionsQueue({ url: redisUrl() }, prefix);
    try {
      const audit = new AuditLog(redis, prefix);
      const catalog = loadCatalog(RUNBOOKS);
      const decided = await decide((await store.get('1'))!, {
        catalog,
        store,
        bus: new EventBus(redis, prefix),
        audit,
        // The CLI reads the system clock: the request must be fresh, or it has expired.
        clock: new FakeClock(new Date().toISOString()),
        queue,
      });
      expect(decided).toBe('ask');
      expect((await store.get('1'))!.state).toBe('awaiting-approval');
      // `reef status` says what is asked of a human, and until when.
      const status = await runCli(['status', '-c', file], { env: env() });
      expect(status.stdout).toMatch(
        /Awaiting approval: #1 runbook pod-restart, asked \d+s ago, expires in (29m|30m)[^\n]* → reef approve 1 · reef plan 1 · reef dismiss 1/,
      );
      const r = await runCli(['approve', '1', '-c', file], { env: env() });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Approved by cli:\S+: runbook pod-restart is queued/);
      const again = await runCli(['approve', '1', '-c', file], { env: env() });
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/was already approved by cli:\S+: runbook pod-restart is queued/);
      expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
      expect((await queue.getJob('exec-1-pod-restart'))?.data).toMatchObject({
        kind: 'run',
        runbookId: 'pod-restart',
      });
      const actions = (await audit.read({ incidentId: '1' })).map((e) => e.action);
      // The first refusal is the previous test's: an approval of an incident that was not awaiting one.
      expect(actions).toEqual([
        'approval-refused',
        'decision',
        'approval-requested',
        'approval',
        'approval-refused',
      ]);
    } finally {
      await queue.close();
    }
  });
});
