import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisCheckMemory } from '../../src/adapters/check-memory.js';
import { systemClock } from '../../src/adapters/clock.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { restartsKey } from '../../src/checks/pods.js';
import { runSweep } from '../../src/checks/sweep.js';
import { configSchema, type ReefConfig } from '../../src/config/schema.js';
import { EventBus } from '../../src/events/event-bus.js';
import type { IncidentEvent } from '../../src/events/incident-event.js';
import { decideOpened } from '../../src/execution/decide.js';
import { executionsQueue } from '../../src/execution/queue.js';
import { fingerprintOf } from '../../src/findings/finding.js';
import type { Incident } from '../../src/incidents/incident.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../src/runbooks/location.js';
import { createCheckContext } from '../../src/runtime/check-context.js';
import { type PodWatches, startPodWatches } from '../../src/runtime/pod-watch.js';
import { readWatchRecords, type WatchRecord } from '../../src/runtime/watch-record.js';
import type { KubeApiServerOptions } from '../fixtures/kube-api-server.js';
import { makeReplicaSet, setContainer } from '../fixtures/kube-objects.js';
import { type FakeCluster, startFakeCluster, writeKubeconfig } from '../fixtures/kubeconfig.js';
import { eventually } from '../helpers/eventually.js';
import { closedPort } from '../helpers/http-server.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

describe('pod watches feed incidents (fake API server, real client-node, real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let store: IncidentStore;
  let cluster: FakeCluster;
  let watches: PodWatches | undefined;

  beforeEach(() => {
    redis = connect();
    prefix = uniquePrefix('watch');
    store = new IncidentStore(redis, prefix);
  });
  afterEach(async () => {
    await watches?.stop();
    watches = undefined;
    await cluster?.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  const start = async (options: KubeApiServerOptions = {}, namespaces = ['apps']) => {
    cluster = await startFakeCluster(options);
    cluster.server.store.put(makeReplicaSet({ name: 'web-6b7', namespace: 'apps', deployment: 'web' }));
    cluster.server.addPod({
      name: 'web-6b7-a',
      namespace: 'apps',
      owner: { kind: 'ReplicaSet', name: 'web-6b7' },
    });
    cluster.server.addPod({
      name: 'web-6b7-b',
      namespace: 'apps',
      owner: { kind: 'ReplicaSet', name: 'web-6b7' },
    });
    const config = configSchema.parse({
      redis: { prefix },
      clusters: { lab: { kubeconfig: cluster.kubeconfig, namespaces } },
      checks: { pods: [{ cluster: 'lab' }] },
    });
    watches = run(config);
    await eventually('the watch to connect', async () => (await record())?.state === 'connected');
    return config;
  };
  let afterIngest: ((events: readonly IncidentEvent[]) => Promise<void>) | undefined;
  const run = (config: ReefConfig) =>
    startPodWatches({
      ...(afterIngest ? { afterIngest } : {}),
      config,
      clock: systemClock,
      tracker: new IncidentTracker(store, systemClock),
      store,
      bus: new EventBus(redis, prefix),
      redis,
      prefix,
      backoff: { initialMs: 20, maxMs: 200 },
    });
  const record = async (): Promise<WatchRecord | null> =>
    (await readWatchRecords(redis, prefix, ['lab']))[0]!.record;
  const incident = (pod: string, condition = 'CrashLoopBackOff') =>
    store.currentFor(fingerprintOf('pods', `apps/${pod}`, condition));
  const crash = (pod: string) =>
    cluster.server.updatePod('apps', pod, (p) =>
      setContainer(p, {
        name: 'app',
        state: 'CrashLoopBackOff',
        restartCount: 4,
        lastTermination: { reason: 'Error', exitCode: 1 },
      }),
    );
  const recover = (pod: string) =>
    cluster.server.updatePod('apps', pod, (p) =>
      setContainer(p, { name: 'app', state: 'running', restartCount: 4 }),
    );
  const resolution = async (id: string) => {
    const resolved = await eventually('the incident to resolve', async () => {
      const i = await store.get(id);
      return i?.state === 'resolved' ? i : undefined;
    });
    return resolved.history.at(-1)!.note;
  };
  const published = async () =>
    (await redis.xrange(`${prefix}:events`, '-', '+')).map(
      ([, fields]) => JSON.parse(fields[1]!) as { type: string; incident: Incident },
    );

  it('a pod flipping to CrashLoopBackOff in the stream opens an incident within seconds; recovery resolves it', async () => {
    await start();
    crash('web-6b7-a');
    // No sweep runs in this test: only the watch stream can open it (how fast is `npm run bench -- pods`).
    const opened = await eventually('the incident', () => incident('web-6b7-a'));
    expect(opened).toMatchObject({
      check: 'pods',
      target: 'apps/web-6b7-a',
      probe: 'lab',
      condition: 'CrashLoopBackOff',
      severity: 'critical',
      state: 'open',
      facts: { cluster: 'lab', ownerKind: 'Deployment', ownerName: 'web', restartCount: 4 },
    });
    // Saved first, then published: wait for the event rather than read the stream at once.
    const events = await eventually('the opened event', async () => {
      const now = await published();
      return now.length > 0 ? now : undefined;
    });
    expect(events.map((e) => [e.type, e.incident.target])).toEqual([['opened', 'apps/web-6b7-a']]);
    // An event about another pod says nothing about this one.
    crash('web-6b7-b');
    await eventually('the second incident', () => incident('web-6b7-b'));
    expect((await store.get(opened.id))!.state).toBe('open');

    recover('web-6b7-a');
    expect(await resolution(opened.id)).toBe('target healthy again');
    expect((await incident('web-6b7-b'))!.state).toBe('open');
    const record = (await readWatchRecords(redis, prefix, ['lab']))[0]!.record!;
    expect(record).toMatchObject({ cluster: 'lab', state: 'connected', namespaces: ['apps'], error: null });
  });

  it('an incident a watch opens goes through the decision: the bundled pod-restart asks for approval', async () => {
    const queue = executionsQueue({ url: redisUrl() }, prefix);
    const audit = new AuditLog(redis, prefix);
    afterIngest = (events) =>
      decideOpened(events, {
        catalog: loadCatalog(BUNDLED_RUNBOOKS_DIR),
        store,
        bus: new EventBus(redis, prefix),
        audit,
        clock: systemClock,
        queue,
      });
    try {
      await start();
      crash('web-6b7-a');
      // The request is announced after it is saved: wait for the announcement.
      const types = await eventually('the request for approval', async () => {
        const now = (await published()).map((e) => e.type);
        return now.includes('awaiting-approval') ? now : undefined;
      });
      expect(types).toEqual(['opened', 'awaiting-approval']);
      const asked = (await incident('web-6b7-a'))!;
      expect(asked).toMatchObject({ state: 'awaiting-approval', proposedRunbookId: 'pod-restart' });
      expect((await audit.read({ incidentId: asked.id })).map((e) => e.action)).toEqual([
        'decision',
        'approval-requested',
      ]);
      // Asked, not run: nothing is queued but the request's expiry.
      expect((await queue.getJobs(['waiting', 'delayed'])).map((j) => j.name)).toEqual(['expire']);
    } finally {
      afterIngest = undefined;
      await queue.close();
    }
  });

  it('a DELETED pod resolves its incident as gone', async () => {
    await start();
    crash('web-6b7-a');
    const opened = await eventually('the incident', () => incident('web-6b7-a'));
    cluster.server.deletePod('apps', 'web-6b7-a');
    expect(await resolution(opened.id)).toBe('target gone');
  });

  it('a restart count above the one the last sweep remembered is `restarting`', async () => {
    await start();
    await new RedisCheckMemory(redis, prefix).set(
      restartsKey('lab', 'apps', 'web-6b7-a', 'app'),
      '1',
      60_000,
    );
    cluster.server.updatePod('apps', 'web-6b7-a', (p) => setContainer(p, { name: 'app', restartCount: 3 }));
    const opened = await eventually('the restarting incident', () => incident('web-6b7-a', 'restarting'));
    expect(opened).toMatchObject({
      severity: 'warning',
      facts: { previousRestartCount: 1, restartCount: 3 },
    });
  });

  it('sweeps and events agree on `restarting`: events neither resolve a sweep’s incident nor see restarts sweeps miss', async () => {
    const config = await start();
    const tracker = new IncidentTracker(store, systemClock);
    const sweep = async () => {
      const built = createCheckContext(config, {
        clock: systemClock,
        memory: new RedisCheckMemory(redis, prefix),
      });
      try {
        const run = await runSweep(config, built.context);
        await tracker.ingest({ outcomes: run.outcomes, only: null }, config);
      } finally {
        await built.close();
      }
    };
    const restarts = (n: number) =>
      cluster.server.updatePod('apps', 'web-6b7-a', (p) => setContainer(p, { name: 'app', restartCount: n }));
    const touch = () =>
      cluster.server.updatePod('apps', 'web-6b7-a', (p) => {
        p.metadata.labels = { app: 'web', touched: String(Date.now()) };
      });
    const settle = () => new Promise((r) => setTimeout(r, 300));
    await sweep();
    restarts(5);
    const opened = await eventually('the watch to see the restarts', () =>
      incident('web-6b7-a', 'restarting'),
    );
    await sweep();
    expect((await store.get(opened.id))!.state).toBe('open');
    // An event that is no restart (a label change) must not undo what the sweep just confirmed.
    touch();
    await settle();
    expect((await store.get(opened.id))!.state).toBe('open');
    // No restart since: the next sweep resolves it, and later events leave it resolved.
    await sweep();
    expect(await resolution(opened.id)).toBe('target healthy again');
    touch();
    await settle();
    expect(await incident('web-6b7-a', 'restarting')).toBeUndefined();
  });

  it.each(['event', 'http'] as const)(
    '410 Gone (%s) on resume: re-lists, resolves pods deleted meanwhile, and keeps watching',
    async (staleWatch) => {
      await start({ staleWatch });
      crash('web-6b7-a');
      const gone = await eventually('the incident', () => incident('web-6b7-a'));
      const lists = cluster.server.count({ verb: 'list', resource: 'pods' });
      // The stream breaks; before Reef is back the cluster moves on and its history is compacted.
      cluster.server.watches.drop();
      cluster.server.deletePod('apps', 'web-6b7-a');
      cluster.server.addPod({
        name: 'late',
        namespace: 'apps',
        containers: [{ name: 'app', state: 'CrashLoopBackOff' }],
      });
      cluster.server.store.compact();
      expect(await resolution(gone.id)).toBe('target gone');
      await eventually('the incident of the pod added meanwhile', () => incident('late'));
      expect(cluster.server.count({ verb: 'list', resource: 'pods' })).toBe(lists + 1);
      // And the new stream carries on.
      crash('web-6b7-b');
      await eventually('an incident from the new stream', () => incident('web-6b7-b'));
    },
  );

  it('an ERROR 410 event mid-stream (watch cache expired) re-lists and carries on', async () => {
    await start();
    cluster.server.watches.expire();
    await eventually('a re-list', async () => cluster.server.count({ verb: 'list', resource: 'pods' }) === 2);
    await cluster.server.watches.waitFor(1);
    crash('web-6b7-b');
    await eventually('an incident after the re-list', () => incident('web-6b7-b'));
  });

  it('resumes a dropped stream from the last resourceVersion (no re-list) and honours BOOKMARKs', async () => {
    await start();
    cluster.server.watches.drop();
    await cluster.server.watches.waitFor(1);
    const resumed = cluster.server.requests.filter((r) => r.verb === 'watch').at(-1)!;
    expect(resumed.query.get('resourceVersion')).toBe(String(cluster.server.store.resourceVersion));
    expect(resumed.query.get('allowWatchBookmarks')).toBe('true');
    expect(cluster.server.count({ verb: 'list', resource: 'pods' })).toBe(1);
    cluster.server.addPod({ name: 'noise', namespace: 'elsewhere' });
    cluster.server.watches.bookmark();
    const version = String(cluster.server.store.resourceVersion);
    await eventually(
      'the bookmark to be recorded',
      async () => (await record())?.resourceVersion === version,
      4000,
    );
  });

  it('records errors with what to grant, backs off, and reconnects once allowed', async () => {
    await start();
    const allow = cluster.server.forbid({ verb: 'watch', resource: 'pods' });
    cluster.server.watches.drop();
    const failing = await eventually('the error state', async () => {
      const r = await record();
      return r?.state === 'error' ? r : undefined;
    });
    expect(failing.error).toBe('forbidden: cannot watch pods in namespace apps (RBAC: grant watch on pods)');
    allow();
    await eventually('the watch to reconnect', async () => (await record())?.state === 'connected');
    crash('web-6b7-a');
    await eventually('an incident after reconnecting', () => incident('web-6b7-a'));
  });

  it('an unreachable API shows as reconnecting with the reason; stop removes the record', async () => {
    cluster = await startFakeCluster();
    const port = await closedPort();
    const kubeconfig = await writeKubeconfig(
      cluster.dir,
      [{ name: 'down', server: `http://127.0.0.1:${port}` }],
      { file: 'down' },
    );
    watches = run(
      configSchema.parse({
        redis: { prefix },
        clusters: { lab: { kubeconfig } },
        checks: { pods: [{ cluster: 'lab' }] },
      }),
    );
    const down = await eventually('the reconnecting state', async () => {
      const r = await record();
      return r?.state === 'reconnecting' ? r : undefined;
    });
    expect(down.error).toMatch(
      /^cannot reach the Kubernetes API of cluster lab at http:\/\/127\.0\.0\.1:\d+ \(list pods in all namespaces\): connect ECONNREFUSED/,
    );
    expect(down.namespaces).toBeNull();
    await watches.stop();
    watches = undefined;
    expect(await record()).toBeNull();
  });

  it('watches each configured namespace on its own stream', async () => {
    await start({}, ['apps', 'jobs']);
    await cluster.server.watches.waitFor(2);
    const paths = cluster.server.requests
      .filter((r) => r.verb === 'watch')
      .map((r) => r.path)
      .sort();
    expect(paths).toEqual(['/api/v1/namespaces/apps/pods', '/api/v1/namespaces/jobs/pods']);
    cluster.server.addPod({
      name: 'job-1',
      namespace: 'jobs',
      containers: [{ name: 'app', state: 'ImagePullBackOff' }],
    });
    await eventually('the incident in the second namespace', () =>
      store.currentFor(fingerprintOf('pods', 'jobs/job-1', 'ImagePullBackOff')),
    );
  });
});
