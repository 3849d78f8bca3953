import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesDeletePodExecutor as step } from '../../src/executors/kubernetes-delete-pod.js';
import { makePdb } from '../fixtures/kube-objects.js';
import { type FakeCluster, startFakeCluster } from '../fixtures/kubeconfig.js';
import { bounds, refusal, runStep, stepContext } from '../helpers/step-context.js';

describe('kubernetes.deletePod against the fake API server (real client-node)', () => {
  let cluster: FakeCluster;
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    cluster = await startFakeCluster();
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  afterAll(async () => {
    await cluster?.close();
  });

  const context = (runbook: { stateful?: boolean } = {}) => {
    const ctx = stepContext({
      config: { clusters: { lab: { kubeconfig: cluster.kubeconfig, context: cluster.context } } },
      runbook,
    });
    closers.push(ctx.close);
    return ctx;
  };
  const pods = () => cluster.server.store.typeOf({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x' } });
  const exists = (ns: string, name: string) => cluster.server.store.get(pods(), ns, name) !== undefined;

  it('evicts through the Eviction API by default: the POST carries a policy/v1 Eviction', async () => {
    cluster.server.addPod({
      name: 'web-7d9f',
      namespace: 'apps',
      owner: { kind: 'ReplicaSet', name: 'web-7d' },
    });
    const params = { cluster: 'lab', namespace: 'apps', pod: 'web-7d9f', gracePeriodSeconds: 20 };
    expect(step.describe(step.schema.parse(params), bounds())).toBe(
      'POST /api/v1/namespaces/apps/pods/web-7d9f/eviction (policy/v1 Eviction, gracePeriodSeconds=20) on cluster lab',
    );
    const result = await runStep(step, params, context());
    expect(result).toMatchObject({ ok: true, summary: expect.stringMatching(/^evicted pod apps\/web-7d9f/) });
    const post = cluster.server.requests.find((r) => r.resource === 'pods/eviction' && r.name === 'web-7d9f');
    expect(post).toMatchObject({
      method: 'POST',
      verb: 'create',
      path: '/api/v1/namespaces/apps/pods/web-7d9f/eviction',
    });
    expect(post!.body).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'web-7d9f', namespace: 'apps' },
      deleteOptions: { gracePeriodSeconds: 20 },
    });
    expect(exists('apps', 'web-7d9f')).toBe(false);
    expect(cluster.server.count({ method: 'DELETE', name: 'web-7d9f' })).toBe(0);
  });

  it('a PodDisruptionBudget that allows no disruption: one 429, a failed step with the reason, no retries', async () => {
    cluster.server.addPod({ name: 'api-1', namespace: 'pdb', labels: { app: 'api' } });
    cluster.server.store.put(
      makePdb({
        name: 'api-pdb',
        namespace: 'pdb',
        matchLabels: { app: 'api' },
        disruptionsAllowed: 0,
        currentHealthy: 2,
        desiredHealthy: 2,
      }),
    );
    const result = await runStep(step, { cluster: 'lab', namespace: 'pdb', pod: 'api-1' }, context());
    expect(result.ok).toBe(false);
    expect(result.summary).toBe(
      'eviction of pod pdb/api-1 refused by its PodDisruptionBudget: The disruption budget api-pdb needs 2 healthy pods and has 2 currently. Not retried: the budget allows no disruption now',
    );
    expect(result.data).toEqual({ refused: 'disruption-budget' });
    expect(cluster.server.count({ resource: 'pods/eviction', name: 'api-1' })).toBe(1);
    expect(exists('pdb', 'api-1')).toBe(true);
  });

  it('a budget with room is spent by the eviction, then the next one is refused', async () => {
    for (const name of ['q-1', 'q-2'])
      cluster.server.addPod({ name, namespace: 'room', labels: { app: 'q' } });
    cluster.server.store.put(
      makePdb({ name: 'q-pdb', namespace: 'room', matchLabels: { app: 'q' }, disruptionsAllowed: 1 }),
    );
    const ctx = context();
    expect((await runStep(step, { cluster: 'lab', namespace: 'room', pod: 'q-1' }, ctx)).ok).toBe(true);
    const second = await runStep(step, { cluster: 'lab', namespace: 'room', pod: 'q-2' }, ctx);
    expect(second).toMatchObject({ ok: false, data: { refused: 'disruption-budget' } });
    expect([exists('room', 'q-1'), exists('room', 'q-2')]).toEqual([false, true]);
  });

  it('mode: delete deletes the pod outright, budget or not', async () => {
    cluster.server.addPod({ name: 'job-1', namespace: 'del', labels: { app: 'job' } });
    cluster.server.store.put(
      makePdb({ name: 'job-pdb', namespace: 'del', matchLabels: { app: 'job' }, disruptionsAllowed: 0 }),
    );
    const params = { cluster: 'lab', namespace: 'del', pod: 'job-1', mode: 'delete', gracePeriodSeconds: 0 };
    expect(step.describe(step.schema.parse(params), bounds())).toBe(
      'DELETE /api/v1/namespaces/del/pods/job-1 (gracePeriodSeconds=0) on cluster lab',
    );
    const result = await runStep(step, params, context());
    expect(result).toMatchObject({ ok: true, summary: 'deleted pod del/job-1 on cluster lab' });
    const del = cluster.server.requests.find((r) => r.method === 'DELETE' && r.name === 'job-1');
    expect(del?.query.get('gracePeriodSeconds')).toBe('0');
    expect(cluster.server.count({ resource: 'pods/eviction', namespace: 'del' })).toBe(0);
    expect(exists('del', 'job-1')).toBe(false);
  });

  it('refuses a StatefulSet pod or one mounting a PVC unless the runbook says stateful: true', async () => {
    cluster.server.addPod({ name: 'db-0', namespace: 'data', owner: { kind: 'StatefulSet', name: 'db' } });
    cluster.server.addPod({ name: 'cache-1', namespace: 'data', pvcs: ['cache-data'] });
    const db = await runStep(step, { cluster: 'lab', namespace: 'data', pod: 'db-0' }, context());
    expect(db).toEqual({
      ok: false,
      summary:
        'refused: pod data/db-0 is stateful (owned by StatefulSet db); runbook test-runbook does not say stateful: true',
      data: { refused: 'stateful', reasons: ['owned by StatefulSet db'] },
    });
    const cache = await runStep(
      step,
      { cluster: 'lab', namespace: 'data', pod: 'cache-1', mode: 'delete' },
      context(),
    );
    expect(cache.summary).toMatch(/stateful \(mounts PersistentVolumeClaim cache-data\)/);
    expect(cluster.server.count({ namespace: 'data', resource: 'pods/eviction' })).toBe(0);
    expect(cluster.server.count({ namespace: 'data', method: 'DELETE' })).toBe(0);
    expect(exists('data', 'db-0') && exists('data', 'cache-1')).toBe(true);

    const allowed = await runStep(
      step,
      { cluster: 'lab', namespace: 'data', pod: 'db-0' },
      context({ stateful: true }),
    );
    expect(allowed.ok).toBe(true);
    expect(exists('data', 'db-0')).toBe(false);
  });

  it('a pod already gone is nothing to do; RBAC denial is an error naming the grant', async () => {
    const gone = await runStep(step, { cluster: 'lab', namespace: 'apps', pod: 'never-was' }, context());
    expect(gone).toMatchObject({ ok: true, data: { alreadyGone: true } });
    cluster.server.addPod({ name: 'locked', namespace: 'rbac' });
    const undo = cluster.server.forbid({ resource: 'pods/eviction', namespace: 'rbac' });
    try {
      await expect(
        runStep(step, { cluster: 'lab', namespace: 'rbac', pod: 'locked' }, context()),
      ).rejects.toThrow(
        /forbidden: cannot create pods\/eviction in namespace rbac \(RBAC: grant create on pods\/eviction to system:serviceaccount:reef:reef\)/,
      );
    } finally {
      undo();
    }
  });

  it('refuses facts that are not Kubernetes names before any call', () => {
    expect(refusal(step, { cluster: 'lab', namespace: 'apps', pod: 'web;rm -rf /' })).toMatch(
      /^pod: "web;rm -rf \/" is not a valid Kubernetes name/,
    );
    expect(refusal(step, { cluster: 'lab', namespace: '../kube-system', pod: 'web' })).toMatch(
      /^namespace: "..\/kube-system" is not a valid Kubernetes namespace/,
    );
    expect(refusal(step, { cluster: 'lab', namespace: 'apps', pod: 'Web_1' })).toMatch(
      /not a valid Kubernetes name/,
    );
    expect(refusal(step, { cluster: 'lab', namespace: 'apps', pod: 'web', mode: 'drain' })).toMatch(/^mode:/);
    expect(refusal(step, { cluster: 'lab', namespace: 'apps', pod: 'web-1.x' })).toBeUndefined();
  });
});
