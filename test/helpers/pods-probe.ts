import { afterAll, afterEach, beforeAll } from 'vitest';
import { InMemoryCheckMemory } from '../../src/adapters/check-memory.js';
import { systemClock } from '../../src/adapters/clock.js';
import { createKubePort, type KubePortOptions } from '../../src/adapters/kubernetes.js';
import type { CheckContext } from '../../src/checks/check.js';
import { podsCheck } from '../../src/checks/pods.js';
import { configSchema, type ReefConfig } from '../../src/config/schema.js';
import type { Finding } from '../../src/findings/finding.js';
import { createCheckContext } from '../../src/runtime/check-context.js';
import { makePod } from '../fixtures/kube-objects.js';
import { type FakeCluster, startFakeCluster } from '../fixtures/kubeconfig.js';

/**
 * Hooks and helpers for pods-check tests, registered in the calling `describe`: one fake cluster for the
 * block (its pods removed and its ports closed after each test), configs of a `lab` cluster pointing at
 * it, and the real check context with the Kubernetes port tuned per test.
 */
export function podsProbeHarness() {
  let cluster: FakeCluster | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    cluster = await startFakeCluster();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    const server = cluster!.server;
    for (const pod of server.store.list(server.store.typeOf(makePod({ name: 'x' })))) {
      server.deletePod(pod.metadata.namespace!, pod.metadata.name);
    }
  });
  afterAll(async () => {
    await cluster?.close();
  });

  const harness = {
    get cluster(): FakeCluster {
      return cluster!;
    },
    /** Runs after the current test (undo a `forbid`, close a port). */
    later(cleanup: () => Promise<void> | void): void {
      cleanups.push(cleanup);
    },
    config(pods: Record<string, unknown> = {}, clusterExtra: Record<string, unknown> = {}): ReefConfig {
      return configSchema.parse({
        clusters: { lab: { kubeconfig: cluster!.kubeconfig, context: cluster!.context, ...clusterExtra } },
        checks: { pods: [{ cluster: 'lab', ...pods }] },
      });
    },
    context(cfg: ReefConfig, kube: KubePortOptions = {}, memory = new InMemoryCheckMemory()): CheckContext {
      const built = createCheckContext(cfg, { clock: systemClock, memory });
      const port = createKubePort(cfg, kube);
      cleanups.push(built.close, port.close);
      return { ...built.context, kube: port };
    },
    probe(cfg: ReefConfig, ctx: CheckContext = harness.context(cfg)): Promise<Finding[]> {
      return podsCheck.probe(podsCheck.targets(cfg)[0]!, ctx);
    },
    byTarget(findings: Finding[]): Map<string, Finding> {
      return new Map(findings.map((f) => [`${f.target} ${f.condition}`, f]));
    },
  };
  return harness;
}
