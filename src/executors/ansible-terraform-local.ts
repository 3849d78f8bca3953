import { spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import path from 'node:path';

/**
 * What the Ansible and Terraform executors share: they run a tool on Reef's own machine (not on a
 * configured host through the HostPort) on files from the runbook's folder.
 */

/**
 * `relative` resolved against the runbook folder, refused when it is absolute or leaves the folder
 * (`../`). Syntax only: `resolveInsideReal` also follows symlinks, once the files must exist.
 */
export function resolveInside(dir: string, relative: string, what: string): string {
  if (relative.includes('\0')) throw new Error(`${what} "${relative}" contains a NUL byte`);
  if (path.isAbsolute(relative)) {
    throw new Error(`${what} "${relative}" must be relative to the runbook folder ${dir}, not absolute`);
  }
  const resolved = path.resolve(dir, relative);
  if (!isInside(dir, resolved)) {
    throw new Error(`${what} "${relative}" leaves the runbook folder ${dir}; keep it inside that folder`);
  }
  return resolved;
}

/** As `resolveInside`, then the same check on the real paths, so a symlink cannot lead out of the folder. */
export async function resolveInsideReal(dir: string, relative: string, what: string): Promise<string> {
  const resolved = resolveInside(dir, relative, what);
  let real: string;
  try {
    real = await realpath(resolved);
  } catch (error) {
    throw new Error(`${what} "${relative}" does not exist in the runbook folder ${dir}`, { cause: error });
  }
  if (!isInside(await realpath(dir), real)) {
    throw new Error(
      `${what} "${relative}" is a symlink leading out of the runbook folder ${dir} (to ${real})`,
    );
  }
  return real;
}

function isInside(dir: string, candidate: string): boolean {
  const relative = path.relative(dir, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Runs a tool (`ansible-playbook`, `ssh`, `terraform`/`tofu`): argv with no shell, its own working
 * directory and environment, a timeout, the step's abort signal, and bounded output.
 */
export interface ToolOptions {
  cwd?: string;
  /** The whole environment of the tool (not merged with process.env here: callers decide). */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Output kept from the start and from the end; what lies between is dropped as it arrives. */
  headBytes?: number;
  tailBytes?: number;
}

export interface ToolResult {
  /** Exit code; null when the tool was killed (timeout, abort). */
  code: number | null;
  /** stdout and stderr interleaved as they arrived, bounded (head and tail). */
  output: string;
  /** Why the tool was killed, when it was. */
  killed?: 'timeout' | 'aborted';
}

const DEFAULT_HEAD = 16 * 1024;
const DEFAULT_TAIL = 48 * 1024;
/** Terraform and ssh get this long to stop cleanly (release a state lock) before SIGKILL. */
const GRACE_MS = 10_000;

export class ToolNotFoundError extends Error {
  constructor(readonly command: string) {
    super(`${command}: not found on this machine`);
    this.name = 'ToolNotFoundError';
  }
}

export function runTool(argv: readonly string[], options: ToolOptions): Promise<ToolResult> {
  const [command, ...args] = argv;
  if (!command) return Promise.reject(new Error('empty command'));
  if (argv.some((a) => a.includes('\0'))) return Promise.reject(new Error('an argument contains a NUL byte'));
  const output = new BoundedOutput(options.headBytes ?? DEFAULT_HEAD, options.tailBytes ?? DEFAULT_TAIL);
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout or abort also ends what it started (ssh, providers).
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let killed: ToolResult['killed'];
    let hardKill: NodeJS.Timeout | undefined;
    const stop = (why: NonNullable<ToolResult['killed']>) => {
      if (killed || child.pid === undefined || child.exitCode !== null) return;
      killed = why;
      signalGroup(child.pid, 'SIGTERM');
      hardKill = setTimeout(() => child.pid && signalGroup(child.pid, 'SIGKILL'), GRACE_MS);
    };
    const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
    const onAbort = () => stop('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    const done = () => {
      clearTimeout(timer);
      clearTimeout(hardKill);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      done();
      reject(error.code === 'ENOENT' ? new ToolNotFoundError(command) : error);
    });
    child.once('close', (code) => {
      done();
      resolve({ code: killed ? null : code, output: output.text(), ...(killed ? { killed } : {}) });
    });
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Keeps the first `head` and the last `tail` bytes: errors and summaries sit at the end of long runs. */
export class BoundedOutput {
  private readonly start: Buffer[] = [];
  private startSize = 0;
  private end: Buffer[] = [];
  private endSize = 0;
  private dropped = 0;

  constructor(
    private readonly head: number,
    private readonly tail: number,
  ) {}

  push(chunk: Buffer): void {
    if (this.startSize < this.head) {
      const take = chunk.subarray(0, this.head - this.startSize);
      this.start.push(take);
      this.startSize += take.length;
      chunk = chunk.subarray(take.length);
    }
    if (chunk.length === 0) return;
    this.end.push(chunk);
    this.endSize += chunk.length;
    while (this.endSize > this.tail) {
      const first = this.end[0]!;
      const excess = this.endSize - this.tail;
      if (first.length <= excess) {
        this.end.shift();
        this.endSize -= first.length;
        this.dropped += first.length;
      } else {
        this.end[0] = first.subarray(excess);
        this.endSize -= excess;
        this.dropped += excess;
      }
    }
  }

  text(): string {
    const head = Buffer.concat(this.start).toString('utf8');
    const tail = Buffer.concat(this.end).toString('utf8');
    return this.dropped > 0 ? `${head}\n… [${this.dropped} bytes omitted] …\n${tail}` : head + tail;
  }
}
