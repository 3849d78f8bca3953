import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ReefError } from '../errors.js';
import { type KubeApiServer, startKubeApiServer } from '../stand-ins/kubernetes/kube-api-server.js';
import { makeReplicaSet, setContainer } from '../stand-ins/kubernetes/kube-objects.js';
import { writeKubeconfig } from '../stand-ins/kubernetes/kubeconfig.js';

/** The demo's kubeconfig context: the only one `reef demo` will talk to. */
export const DEMO_CONTEXT = 'reef-demo';
export const DEMO_NAMESPACE = 'shop';

/**
 * A local Kubernetes API stand-in (the same wire format the tests use) holding one Deployment whose pod
 * crash-loops, and a tiny "controller": when that pod is evicted or deleted, a healthy replacement
 * appears a moment later, as a ReplicaSet controller would create it.
 */
export async function simulatedCluster(dir: string): Promise<{
  server: KubeApiServer;
  kubeconfig: string;
  crashingPod: string;
  close(): Promise<void>;
}> {
  const server = await startKubeApiServer();
  const kubeconfig = await writeKubeconfig(dir, [{ name: DEMO_CONTEXT, server: server.url }]);
  server.store.put(
    makeReplicaSet({ name: 'checkout-7d9f', namespace: DEMO_NAMESPACE, deployment: 'checkout' }),
  );
  const owner = { kind: 'ReplicaSet', name: 'checkout-7d9f' };
  const crashingPod = 'checkout-7d9f-x2x4z';
  server.addPod({ name: crashingPod, namespace: DEMO_NAMESPACE, owner, labels: { app: 'checkout' } });
  server.updatePod(DEMO_NAMESPACE, crashingPod, (p) =>
    setContainer(p, {
      name: 'checkout',
      state: 'CrashLoopBackOff',
      restartCount: 7,
      lastTermination: { reason: 'Error', exitCode: 1 },
    }),
  );
  let replacements = 0;
  const timer = setInterval(() => {
    const pods = server.store.list(
      server.store.typeOf({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x' } }),
    );
    if (pods.some((p) => p.metadata.namespace === DEMO_NAMESPACE)) return;
    replacements++;
    server.addPod({
      name: `checkout-7d9f-r${replacements}`,
      namespace: DEMO_NAMESPACE,
      owner,
      labels: { app: 'checkout' },
      containers: [{ name: 'checkout', state: 'running', restartCount: 0 }],
    });
  }, 500);
  timer.unref();
  return {
    server,
    kubeconfig,
    crashingPod,
    async close() {
      clearInterval(timer);
      await server.close();
    },
  };
}

/**
 * The demo only ever talks to its own stand-in: a kubeconfig the user points it at must have the demo
 * context current, and that context's server must be on loopback. Anything else (a real cluster) is
 * refused before the demo starts.
 */
export function assertDemoKubeconfig(file: string): void {
  let doc: {
    'current-context'?: string;
    contexts?: { name: string; context?: { cluster?: string } }[];
    clusters?: { name: string; cluster?: { server?: string } }[];
  };
  try {
    doc = parse(readFileSync(file, 'utf8')) ?? {};
  } catch (error) {
    throw new ReefError('reef_usage', `Cannot read the kubeconfig ${file}: ${(error as Error).message}`);
  }
  const current = doc['current-context'] ?? '';
  const context = doc.contexts?.find((c) => c.name === current);
  const server = doc.clusters?.find((c) => c.name === context?.context?.cluster)?.cluster?.server ?? '';
  let host = '';
  try {
    host = new URL(server).hostname;
  } catch {}
  const loopback = host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
  if (current !== DEMO_CONTEXT || !loopback) {
    throw new ReefError(
      'reef_usage',
      `The demo refuses the kubeconfig ${file}: its current context is "${current || '(none)'}" (server ${server || 'unknown'}), not the demo's own "${DEMO_CONTEXT}" on loopback`,
      {
        hint: 'The demo is a simulation and never touches a real cluster: run `reef demo` without --kubeconfig, and use `reef start` with your reef.yaml for real clusters.',
      },
    );
  }
}
