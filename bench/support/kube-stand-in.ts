import { forkStandIn } from './forked-stand-in.js';

/** The fake cluster the Kubernetes stand-in serves. */
export interface KubeStandInSpec {
  pods: number;
  namespaces: number;
  /** Pods per Deployment (each through one ReplicaSet), all in one namespace. */
  podsPerDeployment: number;
  /** Pods in CrashLoopBackOff, spread evenly. */
  crashing: number;
}

export type KubeCommand =
  | { id: number; op: 'flip' | 'recover'; namespace: string; name: string }
  | { id: number; op: 'count'; verb: string; resource: string };

export type KubeReply =
  | { kind: 'ready'; url: string }
  | { kind: 'failed'; error: string }
  | { kind: 'done'; id: number; count?: number };

export interface KubeStandIn {
  url: string;
  pid: number;
  /** Sends a command and resolves once the child has applied it (a flip is then in the watch stream). */
  command(command: Omit<Extract<KubeCommand, { op: 'flip' | 'recover' }>, 'id'>): Promise<void>;
  count(verb: string, resource: string): Promise<number>;
  stop(): Promise<void>;
}

export interface StandInPod {
  index: number;
  namespace: string;
  deployment: string;
  replicaSet: string;
  name: string;
  crashing: boolean;
}

const CHILD = new URL('./kube-stand-in-process.ts', import.meta.url);

/**
 * The fake Kubernetes API server of `test/fixtures` in a child process, so its JSON encoding and event
 * loop are not charged to Reef. Killed by pid on stop, and when the bench process exits.
 */
export async function startKubeStandIn(spec: KubeStandInSpec, startTimeoutMs = 30_000): Promise<KubeStandIn> {
  const child = await forkStandIn<KubeCommand, Extract<KubeReply, { kind: 'done' }>>(
    CHILD,
    spec,
    startTimeoutMs,
  );
  return {
    url: child.url,
    pid: child.pid,
    command: async (command) => {
      await child.ask(command);
    },
    count: async (verb, resource) => (await child.ask({ op: 'count', verb, resource })).count ?? 0,
    stop: child.stop,
  };
}

/** The pods of a spec in a fixed order, so parent and child agree on names without sending them. */
export function standInPods(spec: KubeStandInSpec): StandInPod[] {
  const every = Math.round(spec.pods / spec.crashing);
  return Array.from({ length: spec.pods }, (_, index) => {
    const group = Math.floor(index / spec.podsPerDeployment);
    const deployment = `svc-${group}`;
    const replicaSet = `${deployment}-7c9d8f`;
    return {
      index,
      namespace: `ns-${group % spec.namespaces}`,
      deployment,
      replicaSet,
      name: `${replicaSet}-${index.toString(36).padStart(5, '0')}`,
      crashing: index % every === Math.floor(every / 2),
    };
  });
}
