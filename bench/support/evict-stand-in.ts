import { fork } from 'node:child_process';

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
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the Kubernetes stand-in process');
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) kill(pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    kill(pid, 'SIGTERM');
    const timer = setTimeout(() => kill(pid, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  const pending = new Map<number, (reply: Extract<EvictReply, { kind: 'done' }>) => void>();
  let nextId = 0;
  const ask = (command: EvictCommand) =>
    new Promise<Extract<EvictReply, { kind: 'done' }>>((resolve) => {
      pending.set(command.id, resolve);
      child.send(command);
    });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the Kubernetes stand-in did not start in time')),
        startTimeoutMs,
      );
      child.once('exit', (code) => reject(new Error(`the Kubernetes stand-in exited early (code ${code})`)));
      child.on('message', (reply: EvictReply) => {
        if (reply.kind === 'ready') {
          clearTimeout(timer);
          resolve(reply.url);
        } else if (reply.kind === 'failed') reject(new Error(reply.error));
        else {
          pending.get(reply.id)?.(reply);
          pending.delete(reply.id);
        }
      });
      child.send(spec);
    });
    return {
      url,
      pid,
      setLatency: async (ms) => {
        await ask({ id: nextId++, op: 'latency', ms });
      },
      stats: async () => {
        const reply = await ask({ id: nextId++, op: 'stats' });
        if (!reply.stats) throw new Error('the Kubernetes stand-in sent no stats');
        return reply.stats;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
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

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ESRCH') throw error;
  }
}
