import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { lazyKubePort } from '../../src/adapters/kube-lazy.js';
import { configSchema } from '../../src/config/schema.js';
import { kubeContextSource } from '../../src/diagnosis/kube-context.js';
import { runtimeDiagnoseStep } from '../../src/diagnosis/step.js';
import { makeFinding } from '../../src/findings/finding.js';
import type { Incident } from '../../src/incidents/incident.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { type AnthropicApiServer, startAnthropicApiServer } from '../fixtures/anthropic-api-server.js';
import { makeReplicaSet, setContainer } from '../fixtures/kube-objects.js';
import { type FakeCluster, startFakeCluster } from '../fixtures/kubeconfig.js';
import { connect, dropPrefix, uniquePrefix } from '../helpers/redis.js';
import { API_KEY, testCatalog } from './harness.js';

/**
 * A pod incident's evidence from the cluster (its events, the crashed instance's last log lines), read
 * through the real client against the API stand-in, reaches Claude (the Messages API stand-in) redacted;
 * the rules alone never cost an API call for it.
 */
describe('diagnosis evidence from the cluster', () => {
  let cluster: FakeCluster;
  let api: AnthropicApiServer;
  let redis: Redis;
  const prefix = uniquePrefix('evidence');
  const config = () =>
    configSchema.parse({
      redis: { prefix },
      clusters: { lab: { kubeconfig: cluster.kubeconfig, context: cluster.context } },
    });

  beforeAll(async () => {
    cluster = await startFakeCluster();
    api = await startAnthropicApiServer({ apiKey: API_KEY });
    redis = connect();
    cluster.server.store.put(makeReplicaSet({ name: 'web-6b7', namespace: 'apps', deployment: 'web' }));
    cluster.server.addPod({
      name: 'web-6b7-a',
      namespace: 'apps',
      owner: { kind: 'ReplicaSet', name: 'web-6b7' },
    });
    cluster.server.updatePod('apps', 'web-6b7-a', (p) =>
      setContainer(p, {
        name: 'app',
        state: 'CrashLoopBackOff',
        restartCount: 9,
        lastTermination: { reason: 'Error', exitCode: 1 },
      }),
    );
    const event = (name: string, reason: string, message: string, count: number, at: string) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: 'apps' },
      involvedObject: { kind: 'Pod', name: 'web-6b7-a', namespace: 'apps' },
      type: 'Warning',
      reason,
      message,
      count,
      lastTimestamp: at,
    });
    cluster.server.store.put(
      event(
        'e1',
        'Unhealthy',
        'Liveness probe failed: HTTP probe failed with statuscode: 500',
        3,
        '2026-11-28T05:00:00Z',
      ),
    );
    cluster.server.store.put(
      event('e2', 'BackOff', 'Back-off restarting failed container app', 41, '2026-11-28T05:10:00Z'),
    );
    cluster.server.store.put({
      ...event('other', 'Scheduled', 'about another pod', 1, '2026-11-28T05:11:00Z'),
      involvedObject: { kind: 'Pod', name: 'db-0', namespace: 'apps' },
    });
    cluster.server.setPodLogs('apps', 'web-6b7-a', [
      { text: 'starting web 1.4.2', previous: true },
      { text: 'FATAL cannot connect to postgres://web:hunter2-secret@db:5432/shop', previous: true },
      { text: 'current instance line', previous: false },
    ]);
  });
  afterAll(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
    await api?.close();
    await cluster?.close();
  });

  /** A fresh incident of the crash-looping pod (a clean prefix each time: no open incident, no cache). */
  async function openIncident(): Promise<Incident> {
    await dropPrefix(redis, prefix);
    const store = new IncidentStore(redis, prefix);
    const finding = makeFinding(
      {
        check: 'pods',
        target: 'apps/web-6b7-a',
        condition: 'CrashLoopBackOff',
        severity: 'critical',
        summary: 'container app is crash-looping',
        facts: { cluster: 'lab', namespace: 'apps', pod: 'web-6b7-a', container: 'app', restartCount: 9 },
      },
      new Date(),
    );
    const [opened] = await new IncidentTracker(store, systemClock).ingest(
      { outcomes: [{ status: 'anomaly', check: 'pods', target: 'lab', findings: [finding] }], only: 'lab' },
      config(),
    );
    return opened!.incident;
  }

  it('reads the pod events (oldest first) and the crashed instance’s last log lines', async () => {
    const kube = lazyKubePort(config());
    try {
      const source = kubeContextSource(kube);
      const incident = await openIncident();
      expect(await source.events!(incident)).toEqual([
        '2026-11-28T05:00:00.000Z Warning Unhealthy (×3): Liveness probe failed: HTTP probe failed with statuscode: 500',
        '2026-11-28T05:10:00.000Z Warning BackOff (×41): Back-off restarting failed container app',
      ]);
      expect(await source.logs!(incident)).toEqual([
        'starting web 1.4.2',
        'FATAL cannot connect to postgres://web:hunter2-secret@db:5432/shop',
      ]);
      const reads = cluster.server.requests.filter((r) => r.resource === 'pods/log');
      expect(reads.at(-1)?.query.get('previous')).toBe('true');
      expect(reads.at(-1)?.query.get('tailLines')).toBe('40');
    } finally {
      await kube.close();
    }
  });

  it('Claude gets them in its context, redacted; the rules alone make no API call for them', async () => {
    const kube = lazyKubePort(config());
    const store = new IncidentStore(redis, prefix);
    const rt = { config: config(), connection: redis, prefix, clock: systemClock, store };
    try {
      const before = cluster.server.requests.length;
      const rules = runtimeDiagnoseStep(rt, { warn: () => {} }, {}, kube);
      await rules(await openIncident(), testCatalog());
      expect(cluster.server.requests.length).toBe(before);

      const claude = runtimeDiagnoseStep(
        rt,
        { warn: () => {} },
        { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: api.url },
        kube,
      );
      const diagnosed = await claude(await openIncident(), testCatalog());
      expect(diagnosed.diagnosis?.diagnoser, diagnosed.diagnosis?.fallbackReason).toBe('anthropic');
      const sent = api.requests.at(-1)!.raw;
      expect(sent).toContain('Back-off restarting failed container app');
      expect(sent).toContain('FATAL cannot connect to postgres://web:');
      expect(sent).not.toContain('hunter2-secret');
    } finally {
      await kube.close();
    }
  });
});
