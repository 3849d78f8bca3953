import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeReplicaSet, setContainer } from '../fixtures/kube-objects.js';
import { type FakeCluster, startFakeCluster, writeKubeconfig } from '../fixtures/kubeconfig.js';
import { RunningCli, runCli } from '../helpers/cli.js';
import { closedPort } from '../helpers/http-server.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

describe('reef CLI with a Kubernetes cluster (fake API server)', () => {
  let cluster: FakeCluster;

  beforeAll(async () => {
    cluster = await startFakeCluster();
    cluster.server.store.put(makeReplicaSet({ name: 'web-5f6', namespace: 'apps', deployment: 'web' }));
    cluster.server.addPod({
      name: 'web-5f6-a',
      namespace: 'apps',
      owner: { kind: 'ReplicaSet', name: 'web-5f6' },
    });
    cluster.server.addPod({
      name: 'web-5f6-b',
      namespace: 'apps',
      owner: { kind: 'ReplicaSet', name: 'web-5f6' },
    });
  });
  afterAll(async () => {
    await cluster.close();
  });

  const writeConfig = (name: string, body: string) => {
    const file = path.join(cluster.dir, name);
    writeFileSync(file, body);
    return file;
  };

  it('check --once --json reports every pod, a crash loop as critical (exit 2), and a dead cluster as a check error', async () => {
    cluster.server.addPod({
      name: 'worker-0',
      namespace: 'apps',
      owner: { kind: 'StatefulSet', name: 'worker' },
      containers: [
        {
          name: 'app',
          state: 'CrashLoopBackOff',
          restartCount: 9,
          lastTermination: { reason: 'Error', exitCode: 3 },
        },
      ],
    });
    const down = await writeKubeconfig(
      cluster.dir,
      [{ name: 'down', server: `http://127.0.0.1:${await closedPort()}` }],
      {
        file: 'down.yaml',
      },
    );
    const file = writeConfig(
      'once.yaml',
      [
        'clusters:',
        `  lab: { kubeconfig: "${cluster.kubeconfig}", context: ${cluster.context}, namespaces: [apps] }`,
        `  gone: { kubeconfig: "${down}" }`,
        'checks:',
        '  pods: [ { cluster: lab }, { cluster: gone } ]',
        '',
      ].join('\n'),
    );
    try {
      const r = await runCli(['check', '--once', '--json', '-c', file], {
        env: { REDIS_URL: 'redis://127.0.0.1:1' },
      });
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout) as {
        findings: { target: string; condition: string; severity: string; facts: Record<string, unknown> }[];
        errors: { check: string; target: string; message: string }[];
      };
      expect(doc.findings.map((f) => [f.target, f.condition, f.severity])).toEqual([
        ['apps/web-5f6-a', 'ok', 'ok'],
        ['apps/web-5f6-b', 'ok', 'ok'],
        ['apps/worker-0', 'CrashLoopBackOff', 'critical'],
      ]);
      expect(doc.findings[2]!.facts).toMatchObject({
        cluster: 'lab',
        stateful: true,
        ownerKind: 'StatefulSet',
        restartCount: 9,
        exitCode: 3,
      });
      expect(doc.errors).toEqual([
        {
          check: 'pods',
          target: 'gone',
          message: expect.stringMatching(/^cannot reach the Kubernetes API of cluster gone/),
        },
      ]);
    } finally {
      cluster.server.deletePod('apps', 'worker-0');
    }
  });

  describe('reef start watches the cluster', () => {
    let reef: RunningCli;
    let redis: Redis;
    const prefix = uniquePrefix('kcli');
    let file: string;
    const env = () => ({
      REDIS_URL: redisUrl(),
      REEF_HTTP_PORT: '0',
      REEF_DATA_DIR: path.join(cluster.dir, 'data'),
      LOG_FORMAT: 'json',
    });

    beforeAll(async () => {
      redis = connect();
      file = writeConfig(
        'start.yaml',
        [
          `redis: { prefix: ${prefix} }`,
          'clusters:',
          `  lab: { kubeconfig: "${cluster.kubeconfig}", namespaces: [apps] }`,
          'checks:',
          '  pods: [ { cluster: lab } ]',
          '',
        ].join('\n'),
      );
      reef = new RunningCli(['start', '--config', file], { env: env() });
      await reef.waitFor(/Reef is running/);
    });
    afterAll(async () => {
      await reef.stop();
      await dropPrefix(redis, prefix);
      redis.disconnect();
    });

    it('reef status shows the watch connected, in text and JSON', async () => {
      await reef.waitFor(/pod watch connected/, 'stderr');
      const r = await runCli(['status', '-c', file], { env: env() });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /Kubernetes watches:\n {2}lab +connected since \d{4}-\d\d-\d\d [\d:]+ UTC \(\d+[sm] ago\), last event \d+[sm] ago, resourceVersion \d+ \[apps\]/,
      );
      const json = await runCli(['status', '--json', '-c', file], { env: env() });
      const doc = JSON.parse(json.stdout) as { watches: Record<string, unknown>[] };
      expect(doc.watches).toEqual([
        expect.objectContaining({ cluster: 'lab', state: 'connected', namespaces: ['apps'], error: null }),
      ]);
    });

    it('a pod that starts crash-looping is announced from the watch, between sweeps', async () => {
      await reef.waitFor(/sweep finished/, 'stderr');
      cluster.server.updatePod('apps', 'web-5f6-b', (p) =>
        setContainer(p, {
          name: 'app',
          state: 'CrashLoopBackOff',
          restartCount: 2,
          lastTermination: { reason: 'Error', exitCode: 1 },
        }),
      );
      await reef.waitFor(
        /CRITICAL #\d+ pods\/apps\/web-5f6-b CrashLoopBackOff: container app is crash-looping/,
        'stdout',
        10_000,
      );
      cluster.server.deletePod('apps', 'web-5f6-b');
      await reef.waitFor(
        /RESOLVED #\d+ pods\/apps\/web-5f6-b CrashLoopBackOff .*\(target gone\)/,
        'stdout',
        10_000,
      );
    });

    it('SIGTERM stops the watch cleanly; status then says it is not running', async () => {
      expect(await reef.stop()).toBe(0);
      expect(reef.stderr).toMatch(/Reef stopped/);
      const r = await runCli(['status', '-c', file], { env: env() });
      expect(r.stdout).toMatch(/Kubernetes watches:\n {2}lab +not running/);
    });
  });
});
