import { type KubeApiServer, startKubeApiServer } from '../../test/fixtures/kube-api-server.js';
import { makeReplicaSet, setContainer } from '../../test/fixtures/kube-objects.js';
import {
  type EvictCommand,
  type EvictionStats,
  type EvictReply,
  type EvictStandInSpec,
  evictPods,
} from './evict-stand-in.js';

// Child entry of `startEvictStandIn`: builds the fake cluster, answers with its URL, then counts every
// eviction POST per pod and the evictions in flight per owner (a request is in flight from its arrival
// until its response is closed, the stand-in's latency included). Loopback only; it lives exactly as
// long as the IPC channel.

const send = (message: EvictReply) => process.send?.(message);
let server: KubeApiServer | undefined;
const ownerOf = new Map<string, string>();
const evictions: Record<string, number> = {};
const inFlight = new Map<string, number>();
const maxInFlightPerOwner: Record<string, number> = {};
let inFlightTotal = 0;
let maxInFlightTotal = 0;

process.once('message', (spec: EvictStandInSpec) => {
  start(spec).then(
    (url) => {
      send({ kind: 'ready', url });
      process.on('message', (command: EvictCommand) => send(run(command)));
    },
    (error: unknown) => {
      send({ kind: 'failed', error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
});
process.once('disconnect', () => process.exit(0));
process.once('SIGTERM', () => process.exit(0));

async function start(spec: EvictStandInSpec): Promise<string> {
  server = await startKubeApiServer();
  for (const pod of evictPods(spec)) {
    const owner = `${pod.namespace}/${pod.deployment}`;
    if (!ownerOf.has(`rs:${owner}`)) {
      ownerOf.set(`rs:${owner}`, owner);
      server.store.put(
        makeReplicaSet({ name: pod.replicaSet, namespace: pod.namespace, deployment: pod.deployment }),
      );
    }
    ownerOf.set(`${pod.namespace}/${pod.name}`, owner);
    server.addPod({
      name: pod.name,
      namespace: pod.namespace,
      owner: { kind: 'ReplicaSet', name: pod.replicaSet },
    });
    server.updatePod(pod.namespace, pod.name, (p) =>
      setContainer(p, {
        name: 'app',
        state: 'CrashLoopBackOff',
        restartCount: 7,
        lastTermination: { reason: 'Error', exitCode: 1 },
      }),
    );
  }
  // Observes, then falls through (returns false) to the fixture's own eviction handling.
  server.route('POST', /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/, (_req, res, match) => {
    const pod = `${match[1]}/${match[2]}`;
    const owner = ownerOf.get(pod) ?? `unknown:${pod}`;
    evictions[pod] = (evictions[pod] ?? 0) + 1;
    const now = (inFlight.get(owner) ?? 0) + 1;
    inFlight.set(owner, now);
    maxInFlightPerOwner[owner] = Math.max(maxInFlightPerOwner[owner] ?? 0, now);
    maxInFlightTotal = Math.max(maxInFlightTotal, ++inFlightTotal);
    res.once('close', () => {
      inFlight.set(owner, (inFlight.get(owner) ?? 1) - 1);
      inFlightTotal--;
    });
    return false;
  });
  return server.url;
}

function run(command: EvictCommand): EvictReply {
  if (command.op === 'latency') {
    server!.setLatency(command.ms);
    return { kind: 'done', id: command.id };
  }
  const stats: EvictionStats = { evictions, maxInFlightPerOwner, maxInFlightTotal };
  return { kind: 'done', id: command.id, stats };
}
