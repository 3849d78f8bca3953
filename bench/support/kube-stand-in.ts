import { fork } from 'node:child_process';

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
  const pending = new Map<number, (reply: Extract<KubeReply, { kind: 'done' }>) => void>();
  let nextId = 0;
  const ask = (command: KubeCommand) =>
    new Promise<Extract<KubeReply, { kind: 'done' }>>((resolve) => {
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
      child.on('message', (reply: KubeReply) => {
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
      command: async (command) => {
        await ask({ ...command, id: nextId++ });
      },
      count: async (verb, resource) => (await ask({ id: nextId++, op: 'count', verb, resource })).count ?? 0,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
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

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ESRCH') throw error;
  }
}
