import { describe, expect, it } from 'vitest';
import { InMemoryCheckMemory } from '../../src/adapters/check-memory.js';
import { fingerprintOf } from '../../src/findings/finding.js';
import { makeDeployment, makeReplicaSet, setContainer } from '../fixtures/kube-objects.js';
import { podsProbeHarness } from '../helpers/pods-probe.js';

describe('pods check against the fake Kubernetes API (real client-node)', () => {
  const h = podsProbeHarness();
  const { config, context, probe, byTarget } = h;

  it('reports each condition with its facts, resolving ReplicaSet owners to their Deployment', async () => {
    const { server } = h.cluster;
    server.store.put(makeDeployment({ name: 'web', namespace: 'apps' }));
    server.store.put(makeReplicaSet({ name: 'web-7d9f', namespace: 'apps', deployment: 'web' }));
    server.store.put(makeReplicaSet({ name: 'orphan-55', namespace: 'apps' }));
    const rs = { kind: 'ReplicaSet', name: 'web-7d9f' };
    server.addPod({ name: 'web-7d9f-ok', namespace: 'apps', owner: rs });
    server.addPod({
      name: 'web-7d9f-crash',
      namespace: 'apps',
      owner: rs,
      node: 'node-2',
      containers: [
        {
          name: 'app',
          state: 'CrashLoopBackOff',
          restartCount: 7,
          lastTermination: { reason: 'Error', exitCode: 1 },
        },
        { name: 'sidecar' },
      ],
    });
    server.addPod({
      name: 'web-7d9f-oom',
      namespace: 'apps',
      owner: rs,
      containers: [{ name: 'app', restartCount: 2, lastTermination: { reason: 'OOMKilled', exitCode: 137 } }],
    });
    server.addPod({
      name: 'old-oom',
      namespace: 'apps',
      containers: [
        {
          name: 'app',
          restartCount: 1,
          lastTermination: {
            reason: 'OOMKilled',
            exitCode: 137,
            finishedAt: new Date(Date.now() - 2 * 3_600_000),
          },
        },
      ],
    });
    server.addPod({
      name: 'pull',
      namespace: 'apps',
      phase: 'Pending',
      owner: { kind: 'ReplicaSet', name: 'orphan-55' },
      containers: [{ name: 'app', state: 'ImagePullBackOff' }],
    });
    server.addPod({
      name: 'err-pull',
      namespace: 'apps',
      phase: 'Pending',
      containers: [{ name: 'app', state: 'ErrImagePull' }],
    });
    server.addPod({
      name: 'db-0',
      namespace: 'apps',
      owner: { kind: 'StatefulSet', name: 'db' },
      containers: [{ name: 'pg', state: 'CrashLoopBackOff', restartCount: 3 }],
    });
    server.addPod({
      name: 'cache',
      namespace: 'apps',
      pvcs: ['cache-data'],
      containers: [{ name: 'redis', state: 'CrashLoopBackOff' }],
    });
    server.addPod({
      name: 'elsewhere',
      namespace: 'other',
      containers: [{ name: 'app', state: 'CrashLoopBackOff' }],
    });

    const findings = await probe(config({}, { namespaces: ['apps'] }));
    const got = byTarget(findings);
    expect([...got.keys()].sort()).toEqual([
      'apps/cache CrashLoopBackOff',
      'apps/db-0 CrashLoopBackOff',
      'apps/err-pull ImagePullBackOff',
      'apps/old-oom ok',
      'apps/pull ImagePullBackOff',
      'apps/web-7d9f-crash CrashLoopBackOff',
      'apps/web-7d9f-ok ok',
      'apps/web-7d9f-oom OOMKilled',
    ]);
    const crash = got.get('apps/web-7d9f-crash CrashLoopBackOff')!;
    expect(crash).toMatchObject({
      check: 'pods',
      severity: 'critical',
      fingerprint: fingerprintOf('pods', 'apps/web-7d9f-crash', 'CrashLoopBackOff'),
    });
    expect(crash.summary).toBe('container app is crash-looping: 7 restarts, last exit 1 (Error)');
    expect(crash.facts).toEqual({
      cluster: 'lab',
      namespace: 'apps',
      pod: 'web-7d9f-crash',
      container: 'app',
      restartCount: 7,
      lastTerminationReason: 'Error',
      exitCode: 1,
      waitingReason: 'CrashLoopBackOff',
      ownerKind: 'Deployment',
      ownerName: 'web',
      stateful: false,
      node: 'node-2',
    });
    expect(got.get('apps/web-7d9f-oom OOMKilled')).toMatchObject({
      severity: 'critical',
      facts: { lastTerminationReason: 'OOMKilled', exitCode: 137, restartCount: 2, ownerKind: 'Deployment' },
    });
    expect(got.get('apps/pull ImagePullBackOff')).toMatchObject({
      severity: 'critical',
      facts: {
        waitingReason: 'ImagePullBackOff',
        ownerKind: 'ReplicaSet',
        ownerName: 'orphan-55',
        image: 'registry.local/app:1.0',
      },
    });
    expect(got.get('apps/err-pull ImagePullBackOff')!.summary).toMatch(
      /cannot pull its image .*ErrImagePull/,
    );
    expect(got.get('apps/db-0 CrashLoopBackOff')!.facts).toMatchObject({
      stateful: true,
      ownerKind: 'StatefulSet',
      ownerName: 'db',
    });
    expect(got.get('apps/cache CrashLoopBackOff')!.facts).toMatchObject({
      stateful: true,
      persistentVolumeClaims: ['cache-data'],
      ownerKind: null,
    });
    // Healthy pods carry minimal facts, and cost no owner lookups.
    expect(got.get('apps/web-7d9f-ok ok')!.facts).toEqual({
      cluster: 'lab',
      namespace: 'apps',
      pod: 'web-7d9f-ok',
      phase: 'Running',
    });
    // One ReplicaSet lookup per ReplicaSet and probe, however many of its pods are unhealthy.
    expect(server.count({ verb: 'get', resource: 'replicasets', name: 'web-7d9f' })).toBe(1);
  });

  it('pages through the list: 5 pods with limit 2 take 3 requests', async () => {
    for (let i = 0; i < 5; i++) h.cluster.server.addPod({ name: `p-${i}`, namespace: 'apps' });
    const before = h.cluster.server.count({ verb: 'list', resource: 'pods' });
    const cfg = config({ namespaces: ['apps'] });
    const findings = await probe(cfg, context(cfg, { pageSize: 2 }));
    expect(findings.map((f) => f.target)).toEqual([
      'apps/p-0',
      'apps/p-1',
      'apps/p-2',
      'apps/p-3',
      'apps/p-4',
    ]);
    const lists = h.cluster.server.requests.filter((r) => r.verb === 'list').slice(before);
    expect(lists).toHaveLength(3);
    expect(lists.map((r) => r.query.get('limit'))).toEqual(['2', '2', '2']);
    expect(lists.map((r) => r.query.has('continue'))).toEqual([false, true, true]);
  });

  it('lists every namespace when none is configured', async () => {
    h.cluster.server.addPod({ name: 'a', namespace: 'one' });
    h.cluster.server.addPod({
      name: 'b',
      namespace: 'two',
      containers: [{ name: 'app', state: 'CrashLoopBackOff' }],
    });
    const findings = await probe(config());
    expect(findings.map((f) => `${f.target} ${f.condition}`)).toEqual(['one/a ok', 'two/b CrashLoopBackOff']);
    expect(h.cluster.server.requests.at(-1)!.path).toBe('/api/v1/pods');
  });

  it('reports restarting when the restart count rises between two probes, and not when it holds', async () => {
    h.cluster.server.addPod({
      name: 'flaky',
      namespace: 'apps',
      containers: [{ name: 'app', restartCount: 2 }],
    });
    const cfg = config({ namespaces: ['apps'] });
    const memory = new InMemoryCheckMemory();
    const first = await probe(cfg, context(cfg, {}, memory));
    expect(first.map((f) => f.condition)).toEqual(['ok']);
    h.cluster.server.updatePod('apps', 'flaky', (p) =>
      setContainer(p, { name: 'app', restartCount: 5, lastTermination: { reason: 'Error', exitCode: 2 } }),
    );
    const second = await probe(cfg, context(cfg, {}, memory));
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({
      condition: 'restarting',
      severity: 'warning',
      summary: 'container app keeps restarting: 5 restarts, up 3 from 2; last exit 2 (Error)',
      facts: { restartCount: 5, previousRestartCount: 2, lastTerminationReason: 'Error', exitCode: 2 },
    });
    const third = await probe(cfg, context(cfg, {}, memory));
    expect(third.map((f) => f.condition)).toEqual(['ok']);
  });

  it('reports Pending only past pendingAfter, with the scheduler’s reason', async () => {
    h.cluster.server.addPod({
      name: 'young',
      namespace: 'apps',
      node: null,
      createdAt: new Date(Date.now() - 60_000),
      unschedulable: '0/3 nodes are available: 3 Insufficient cpu.',
    });
    h.cluster.server.addPod({
      name: 'stuck',
      namespace: 'apps',
      node: null,
      createdAt: new Date(Date.now() - 20 * 60_000),
      unschedulable: '0/3 nodes are available: 3 Insufficient cpu.',
    });
    h.cluster.server.addPod({
      name: 'creating',
      namespace: 'apps',
      phase: 'Pending',
      createdAt: new Date(Date.now() - 15 * 60_000),
      containers: [{ name: 'app', state: 'ContainerCreating' }],
    });
    const findings = byTarget(await probe(config({ namespaces: ['apps'], pendingAfter: '10m' })));
    expect(findings.get('apps/young ok')).toBeDefined();
    expect(findings.get('apps/creating Pending')).toMatchObject({
      summary: expect.stringMatching(/^pending for 15m( \d+s)?: ContainerCreating$/),
      facts: { reason: 'ContainerCreating', node: 'node-1' },
    });
    expect(findings.get('apps/stuck Pending')).toMatchObject({
      severity: 'warning',
      facts: { reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.', node: null },
    });
    expect(findings.get('apps/stuck Pending')!.summary).toMatch(
      /^pending for 20m( \d+s)?: Unschedulable \(0\/3 nodes/,
    );
  });

  it('an empty namespace is an ok answer, not a check error', async () => {
    const findings = await probe(config({ namespaces: ['empty'] }));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      target: 'lab',
      condition: 'ok',
      summary: 'no pods in namespace empty',
    });
  });
});
