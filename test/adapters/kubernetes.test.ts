import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKubeApiError } from '../../src/adapters/kube-errors.js';
import { createKubePort, type KubePort } from '../../src/adapters/kubernetes.js';
import { configSchema } from '../../src/config/schema.js';
import { makePod, makeReplicaSet } from '../fixtures/kube-objects.js';
import { status } from '../fixtures/kube-wire.js';
import { type FakeCluster, startFakeCluster } from '../fixtures/kubeconfig.js';

describe('Kubernetes adapter against the fake API server (real client-node)', () => {
  let cluster: FakeCluster;
  let kube: KubePort;

  beforeAll(async () => {
    cluster = await startFakeCluster();
    const config = configSchema.parse({
      clusters: { lab: { kubeconfig: cluster.kubeconfig, context: 'test' } },
    });
    kube = createKubePort(config, { pageSize: 2 });
  });
  afterAll(async () => {
    await kube.close();
    await cluster.close();
  });

  it('lists by label and field selector, with the snapshot resourceVersion', async () => {
    const { server } = cluster;
    server.addPod({ name: 'api-1', namespace: 'sel', labels: { app: 'api', tier: 'web' } });
    server.addPod({ name: 'api-2', namespace: 'sel', labels: { app: 'api', tier: 'web' }, node: 'node-9' });
    server.addPod({ name: 'db-1', namespace: 'sel', labels: { app: 'db' } });
    const web = await kube.listPods('lab', { namespace: 'sel', labelSelector: 'app=api,tier in (web,edge)' });
    expect(web.pods.map((p) => p.metadata.name)).toEqual(['api-1', 'api-2']);
    expect(web.resourceVersion).toBe(String(server.store.resourceVersion));
    const notApi = await kube.listPods('lab', { namespace: 'sel', labelSelector: 'app!=api' });
    expect(notApi.pods.map((p) => p.metadata.name)).toEqual(['db-1']);
    const onNode = await kube.listPods('lab', { namespace: 'sel', fieldSelector: 'spec.nodeName=node-9' });
    expect(onNode.pods.map((p) => p.metadata.name)).toEqual(['api-2']);
    // Dates come out as the ISO strings of the wire, whichever way the library hands them over.
    expect(web.pods[0]!.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(web.pods[0]!.containerStatuses[0]!.state.running?.startedAt).toMatch(/Z$/);
  });

  it('starts a paginated list over when its continue token has expired (410)', async () => {
    for (let i = 0; i < 5; i++) cluster.server.addPod({ name: `p${i}`, namespace: 'pages' });
    let failed = false;
    cluster.server.route('GET', /^\/api\/v1\/namespaces\/pages\/pods$/, (req, res) => {
      if (failed || !req.url?.includes('continue=')) return false;
      failed = true;
      status(
        res,
        410,
        'Expired',
        'The provided continue parameter is too old to display a consistent list result.',
      );
      return true;
    });
    const before = cluster.server.count({ verb: 'list', namespace: 'pages' });
    const { pods } = await kube.listPods('lab', { namespace: 'pages' });
    expect(pods.map((p) => p.metadata.name)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    // 1 page, the expired continue, then 3 pages afresh.
    expect(cluster.server.count({ verb: 'list', namespace: 'pages' }) - before).toBe(5);
  });

  it('reads a ReplicaSet, and a missing one is undefined rather than an error', async () => {
    cluster.server.store.put(makeReplicaSet({ name: 'web-abc', namespace: 'rs', deployment: 'web' }));
    const rs = await kube.getReplicaSet('lab', 'rs', 'web-abc');
    expect(rs).toMatchObject({ kind: 'ReplicaSet', metadata: { name: 'web-abc', namespace: 'rs' } });
    expect(rs!.metadata.ownerReferences).toEqual([{ kind: 'Deployment', name: 'web', controller: true }]);
    expect(await kube.getReplicaSet('lab', 'rs', 'gone')).toBeUndefined();
  });

  it('reads pod logs by label selector since a time, every container of multi-container pods', async () => {
    const { server } = cluster;
    const now = Date.now();
    server.addPod({ name: 'web-1', namespace: 'logs', labels: { app: 'web' } });
    server.addPod(
      makePod({
        name: 'web-2',
        namespace: 'logs',
        labels: { app: 'web' },
        containers: [{ name: 'app' }, { name: 'proxy' }],
      }),
    );
    server.addPod({ name: 'web-3', namespace: 'logs', labels: { app: 'web' }, phase: 'Pending', node: null });
    server.addPod({ name: 'other', namespace: 'logs', labels: { app: 'db' } });
    server.setPodLogs('logs', 'web-1', [
      { at: new Date(now - 7200_000), text: 'level=error old' },
      { at: new Date(now - 60_000), text: 'level=error recent' },
    ]);
    server.setPodLogs('logs', 'web-2', [
      { at: new Date(now - 30_000), text: 'app line', container: 'app' },
      { at: new Date(now - 30_000), text: 'proxy line', container: 'proxy' },
    ]);
    const logs = await kube.podLogs('lab', 'logs', 'app=web', { sinceSeconds: 3600 });
    expect(logs).toEqual([
      { pod: 'web-1', text: 'level=error recent\n' },
      { pod: 'web-2', text: 'app line\nproxy line\n' },
      { pod: 'web-3', text: '' },
    ]);
    const requests = server.requests.filter((r) => r.resource === 'pods/log');
    expect(requests.every((r) => r.query.get('sinceSeconds') === '3600')).toBe(true);
    const proxyOnly = await kube.podLogs('lab', 'logs', 'app=web', {
      sinceSeconds: 3600,
      container: 'proxy',
    });
    expect(proxyOnly.find((l) => l.pod === 'web-2')!.text).toBe('proxy line\n');
  });

  it('errors are KubeApiErrors that say what failed and steer callers', async () => {
    const allow = cluster.server.forbid({ resource: 'pods/log' });
    try {
      cluster.server.addPod({ name: 'secret-1', namespace: 'locked', labels: { app: 'x' } });
      const error = await kube
        .podLogs('lab', 'locked', 'app=x', { sinceSeconds: 60 })
        .catch((e: unknown) => e);
      expect(isKubeApiError(error) && error.failure).toBe('forbidden');
      expect((error as Error).message).toBe(
        'forbidden: cannot get pods/log in namespace locked (RBAC: grant get on pods/log to system:serviceaccount:reef:reef)',
      );
    } finally {
      allow();
    }
    const unknown = await kube.listPods('nope').catch((e: unknown) => e);
    expect(isKubeApiError(unknown) && unknown.failure).toBe('config');
    expect((unknown as Error).message).toBe('unknown cluster "nope"');
  });

  it('close() aborts watches in flight', async () => {
    const config = configSchema.parse({ clusters: { lab: { kubeconfig: cluster.kubeconfig } } });
    const port = createKubePort(config);
    const states: string[] = [];
    const watching = port.watchPods('lab', {
      namespace: 'closing',
      signal: new AbortController().signal,
      onSync: async () => {},
      onEvent: async () => {},
      onStatus: (s) => states.push(s.state),
    });
    await cluster.server.watches.waitFor(1);
    while (!states.includes('connected')) await new Promise((r) => setTimeout(r, 10));
    await port.close();
    await watching;
    expect(states).toEqual(['connecting', 'connected']);
    await new Promise((r) => setTimeout(r, 50));
    expect(cluster.server.watches.count).toBe(0);
  });
});
