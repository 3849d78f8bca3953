import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createKubePort } from '../../src/adapters/kubernetes.js';
import { runSweep } from '../../src/checks/sweep.js';
import { configSchema } from '../../src/config/schema.js';
import { makeReplicaSet } from '../fixtures/kube-objects.js';
import { writeKubeconfig } from '../fixtures/kubeconfig.js';
import { closedPort } from '../helpers/http-server.js';
import { podsProbeHarness } from '../helpers/pods-probe.js';

describe('pods check errors: the check failed, said clearly, while the sweep carries on', () => {
  const h = podsProbeHarness();
  const { config, context, probe } = h;

  it('403 is a check error naming the verb, the resource and what to grant; other targets carry on', async () => {
    h.cluster.server.addPod({ name: 'fine', namespace: 'apps' });
    const allow = h.cluster.server.forbid({ verb: 'list', resource: 'pods', namespace: 'secure' });
    h.later(allow);
    const cfg = configSchema.parse({
      clusters: {
        lab: { kubeconfig: h.cluster.kubeconfig, namespaces: ['apps', 'secure'] },
        other: { kubeconfig: h.cluster.kubeconfig, namespaces: ['apps'] },
      },
      checks: { pods: [{ cluster: 'lab' }, { cluster: 'other' }] },
    });
    const ctx = context(cfg);
    const run = await runSweep(cfg, ctx);
    expect(run.errors).toEqual([
      {
        check: 'pods',
        target: 'lab',
        message:
          'forbidden: cannot list pods in namespace secure (RBAC: grant list on pods to system:serviceaccount:reef:reef)',
      },
    ]);
    expect(run.findings.map((f) => f.target)).toEqual(['apps/fine']);
  });

  it('a forbidden ReplicaSet lookup keeps the pod’s finding and says why the owner is unresolved', async () => {
    const allow = h.cluster.server.forbid({ verb: 'get', resource: 'replicasets' });
    h.later(allow);
    h.cluster.server.addPod({
      name: 'web-1',
      namespace: 'rbac',
      owner: { kind: 'ReplicaSet', name: 'web-1rs' },
      containers: [{ name: 'app', state: 'CrashLoopBackOff' }],
    });
    const [finding] = await probe(config({ namespaces: ['rbac'] }));
    expect(finding!.facts).toMatchObject({
      ownerKind: 'ReplicaSet',
      ownerName: 'web-1rs',
      ownerError: expect.stringMatching(
        /^forbidden: cannot get replicasets in namespace rbac \(RBAC: grant get on replicasets\.apps/,
      ),
    });
  });

  it('API down is a check error that says the API is unreachable and where', async () => {
    const dir = h.cluster.dir;
    const port = await closedPort();
    const kubeconfig = await writeKubeconfig(dir, [{ name: 'down', server: `http://127.0.0.1:${port}` }], {
      file: 'down.yaml',
    });
    const cfg = configSchema.parse({
      clusters: { down: { kubeconfig } },
      checks: { pods: [{ cluster: 'down' }] },
    });
    const run = await runSweep(cfg, context(cfg));
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]!.message).toBe(
      `cannot reach the Kubernetes API of cluster down at http://127.0.0.1:${port} (list pods in all namespaces): connect ECONNREFUSED 127.0.0.1:${port}; is the API server up and the kubeconfig server address right?`,
    );
  });

  it('an API that never answers is a check error after the request deadline', async () => {
    h.cluster.server.setLatency(Number.POSITIVE_INFINITY);
    try {
      const cfg = config();
      await expect(probe(cfg, context(cfg, { requestTimeoutMs: 300 }))).rejects.toThrow(
        /cluster lab \(http:\/\/127\.0\.0\.1:\d+\) did not answer in time \(list pods in all namespaces\)/,
      );
    } finally {
      h.cluster.server.setLatency(0);
    }
  });

  it('kubeconfig problems name the file, the field and the known contexts', async () => {
    const missing = configSchema.parse({
      clusters: { lab: { kubeconfig: '/nonexistent/kubeconfig' } },
      checks: { pods: [{ cluster: 'lab' }] },
    });
    await expect(probe(missing)).rejects.toThrow(
      'kubeconfig not found: /nonexistent/kubeconfig (clusters.lab.kubeconfig)',
    );
    const wrongContext = config({}, { context: 'prod' });
    await expect(probe(wrongContext)).rejects.toThrow(
      /context "prod" is not in .*kubeconfig \(clusters\.lab\.context; contexts there: test\)/,
    );
    const inCluster = configSchema.parse({
      clusters: { lab: { inCluster: true } },
      checks: { pods: [{ cluster: 'lab' }] },
    });
    const ctx = { ...context(inCluster), kube: createKubePort(inCluster, { env: {} }) };
    await expect(probe(inCluster, ctx)).rejects.toThrow(/inCluster is true but Reef is not running in a pod/);
  });

  it('a wrong token is a check error about credentials', async () => {
    const kubeconfig = await writeKubeconfig(
      h.cluster.dir,
      [{ name: 'bad', server: h.cluster.server.url, token: 'wrong' }],
      { file: 'bad-token.yaml' },
    );
    const cfg = configSchema.parse({
      clusters: { lab: { kubeconfig } },
      checks: { pods: [{ cluster: 'lab' }] },
    });
    await expect(probe(cfg)).rejects.toThrow(
      /^unauthorized: cluster lab rejected Reef's credentials \(list pods in all namespaces\)/,
    );
  });

  it('a pod and owner named with shell metacharacters are just data', async () => {
    const name = 'web-$(touch /tmp/reef-pwned);rm -rf ~ `id` | cat';
    const rs = "rs-'$(id)'&&reboot";
    h.cluster.server.store.put(makeReplicaSet({ name: rs, namespace: 'apps', deployment: 'dep;ls' }));
    h.cluster.server.addPod({
      name,
      namespace: 'apps',
      owner: { kind: 'ReplicaSet', name: rs },
      containers: [{ name: 'app', state: 'CrashLoopBackOff' }],
    });
    const [finding] = await probe(config({ namespaces: ['apps'] }));
    expect(finding).toMatchObject({
      target: `apps/${name}`,
      facts: { pod: name, ownerKind: 'Deployment', ownerName: 'dep;ls' },
    });
    expect(h.cluster.server.requests.at(-1)).toMatchObject({
      verb: 'get',
      resource: 'replicasets',
      name: rs,
    });
    expect(existsSync('/tmp/reef-pwned')).toBe(false);
  });
});
