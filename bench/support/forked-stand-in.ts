import { fork } from 'node:child_process';

/** What a stand-in child answers: once `ready` (or `failed`), then one `done` per command by id. */
export type StandInReply<Done> = { kind: 'ready'; url: string } | { kind: 'failed'; error: string } | Done;

/** `Omit` that keeps a union a union (each command kind without its id). */
export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface ForkedStandIn<Command extends { id: number }, Done extends { kind: 'done'; id: number }> {
  url: string;
  pid: number;
  /** Sends a command (its id filled in) and resolves with the child's answer to it. */
  ask(command: WithoutId<Command>): Promise<Done>;
  /** SIGTERM by pid, SIGKILL after 3 s; also done with SIGKILL if the bench process exits first. */
  stop(): Promise<void>;
}

/**
 * Forks a bench stand-in server (`child`) so its work is not charged to Reef, sends it `spec`, and waits
 * for its `ready` message. The child is stopped by pid, never by name.
 */
export async function forkStandIn<Command extends { id: number }, Done extends { kind: 'done'; id: number }>(
  child: URL,
  spec: unknown,
  startTimeoutMs: number,
): Promise<ForkedStandIn<Command, Done>> {
  const proc = fork(child, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pid = proc.pid;
  if (pid === undefined) throw new Error('could not start the stand-in process');
  const killOnExit = () => {
    if (proc.exitCode === null && proc.signalCode === null) kill(pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    kill(pid, 'SIGTERM');
    const timer = setTimeout(() => kill(pid, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  const pending = new Map<number, (reply: Done) => void>();
  let nextId = 0;
  const ask = (command: WithoutId<Command>) =>
    new Promise<Done>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      proc.send({ ...command, id });
    });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the stand-in did not start in time')), startTimeoutMs);
      proc.once('exit', (code) => reject(new Error(`the stand-in exited early (code ${code})`)));
      proc.on('message', (message) => {
        const reply = message as StandInReply<Done>;
        if (reply.kind === 'ready') {
          clearTimeout(timer);
          resolve(reply.url);
        } else if (reply.kind === 'failed') reject(new Error(reply.error));
        else {
          pending.get(reply.id)?.(reply);
          pending.delete(reply.id);
        }
      });
      proc.send(spec as object);
    });
    return { url, pid, ask, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ESRCH') throw error;
  }
}
