import { type ChildProcess, fork } from 'node:child_process';

/** What the stand-in child process serves. Every listener binds 127.0.0.1 on an ephemeral port. */
export interface StandInSpec {
  /**
   * Number of node:http servers. Each answers `200 ok` to any path, after `?delayMs=N` milliseconds
   * when the query asks for it.
   */
  httpServers: number;
  tls: {
    certFile: string;
    keyFile: string;
    /** One TLS endpoint (port) per entry: how long the server waits before reading the ClientHello. */
    handshakeDelaysMs: number[];
  };
}

export interface StandInPorts {
  httpPorts: number[];
  /** In the order of `tls.handshakeDelaysMs`. */
  tlsPorts: number[];
}

export type StandInMessage = { kind: 'ready'; ports: StandInPorts } | { kind: 'failed'; error: string };

export interface StandIns extends StandInPorts {
  pid: number;
  /** Kills the child by pid and waits for it to exit; safe to call twice. */
  stop(): Promise<void>;
}

const CHILD = new URL('./stand-in-process.ts', import.meta.url);

/**
 * Starts the stand-in servers in a child process, so the bench process's RSS and event loop are Reef's
 * alone. The child inherits tsx through `execArgv`, exits when the IPC channel closes, and is also
 * killed by pid if the bench process exits first.
 */
export async function startStandIns(spec: StandInSpec, startTimeoutMs = 15_000): Promise<StandIns> {
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the stand-in server process');
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) signal(pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    await killByPid(child, pid);
  };
  try {
    const ready = waitReady(child, startTimeoutMs);
    child.send(spec);
    const ports = await ready;
    return { ...ports, pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function waitReady(child: ChildProcess, timeoutMs: number): Promise<StandInPorts> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`the stand-in servers did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: StandInMessage) => {
      if (message.kind === 'ready') done(undefined, message.ports);
      else done(new Error(`the stand-in servers failed to start: ${message.error}`));
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`the stand-in process exited before it was ready (code ${code}, signal ${signal})`));
    function done(error: Error | undefined, ports?: StandInPorts): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(ports!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', (error) => done(error));
  });
}

async function killByPid(child: ChildProcess, pid: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signal(pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), 3000);
  });
  if ((await Promise.race([exited, late])) === 'late') {
    signal(pid, 'SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

/** Sends a signal to the pid; one that has already gone (ESRCH) is fine. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ESRCH') throw error;
  }
}
