import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REEF_BIN = fileURLToPath(new URL('../../bin/reef.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `reef` executable to completion. */
export function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [REEF_BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `reef ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `reef` process (start, worker, scheduler) whose output can be awaited. */
export class RunningCli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';

  constructor(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    this.child = spawn(process.execPath, [REEF_BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.stdout += d));
    this.child.stderr!.on('data', (d) => (this.stderr += d));
  }

  /** Resolves once stdout (or stderr) matches, or rejects with both streams after `timeoutMs`. */
  async waitFor(
    pattern: RegExp,
    stream: 'stdout' | 'stderr' = 'stdout',
    timeoutMs = 30_000,
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const match = this[stream].match(pattern);
      if (match) return match;
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `no ${pattern} in ${stream} (exit ${this.child.exitCode})\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`,
    );
  }

  /** Sends SIGTERM to this process by pid and waits for it to exit; SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    process.kill(this.child.pid!, 'SIGTERM');
    const timer = setTimeout(() => this.child.pid && process.kill(this.child.pid, 'SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}
