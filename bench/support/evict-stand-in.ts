import { forkStandIn } from './forked-stand-in.js';

/** The fake cluster of the executions bench: `deployments` Deployments (one ReplicaSet each). */
export interface EvictStandInSpec {
  deployments: number;
  namespaces: number;
  /** Crash-looping pods per Deployment: each one becomes an incident on the same target. */
  podsPerDeployment: number;
}

export interface EvictionStats {
  /** Eviction POSTs per `namespace/pod`. */
  evictions: Record<string, number>;
  /** Most eviction requests in flight at once for one owner (`namespace/deployment`), per owner. */
  maxInFlightPerOwner: Record<string, number>;
  /** Most eviction requests in flight at once across the whole stand-in. */
  maxInFlightTotal: number;
}

export type EvictCommand = { id: number; op: 'latency'; ms: number } | { id: number; op: 'stats' };

export type EvictReply =
  | { kind: 'ready'; url: string }
  | { kind: 'failed'; error: string }
  | { kind: 'done'; id: number; stats?: EvictionStats };

export interface EvictStandIn {
  url: string;
  pid: number;
  /** Delay every later answer of the API server by `ms` (requests stay in flight that long). */
  setLatency(ms: number): Promise<void>;
  stats(): Promise<EvictionStats>;
  stop(): Promise<void>;
}

export interface EvictPod {
  namespace: string;
  deployment: string;
  replicaSet: string;
  name: string;
}

const CHILD = new URL('./evict-stand-in-process.ts', import.meta.url);

/**
 * The fake Kubernetes API server of `test/fixtures` in a child process, with crash-looping pods and an
 * eviction counter per pod and in-flight gauge per owner. Killed by pid on stop and on the bench's exit.
 */
export async function startEvictStandIn(
  spec: EvictStandInSpec,
  startTimeoutMs = 30_000,
): Promise<EvictStandIn> {
  const child = await forkStandIn<EvictCommand, Extract<EvictReply, { kind: 'done' }>>(
    CHILD,
    spec,
    startTimeoutMs,
  );
  return {
    url: child.url,
    pid: child.pid,
    setLatency: async (ms) => {
      await child.ask({ op: 'latency', ms });
    },
    stats: async () => {
      const reply = await child.ask({ op: 'stats' });
      if (!reply.stats) throw new Error('the Kubernetes stand-in sent no stats');
      return reply.stats;
    },
    stop: child.stop,
  };
}

/** The pods of a spec in a fixed order, so parent and child agree on names without sending them. */
export function evictPods(spec: EvictStandInSpec): EvictPod[] {
  return Array.from({ length: spec.deployments * spec.podsPerDeployment }, (_, index) => {
    const group = Math.floor(index / spec.podsPerDeployment);
    const deployment = `svc-${group}`;
    const replicaSet = `${deployment}-7c9d8f`;
    return {
      namespace: `ns-${group % spec.namespaces}`,
      deployment,
      replicaSet,
      name: `${replicaSet}-${index.toString(36).padStart(5, '0')}`,
    };
  });
}
