import { spawn } from 'node:child_process';
import type { CommandOptions, CommandResult } from '../checks/check.js';
import { ReefError } from '../errors.js';

const STDERR_LIMIT = 64 * 1024;

/**
 * Runs argv on this machine with no shell in between (`local: true` hosts). Output beyond
 * `maxBytes` is dropped as it arrives, so a huge output never sits in memory.
 */
export function streamLocal(
  argv: readonly string[],
  onStdout: (chunk: Buffer) => void,
  options: CommandOptions & { timeoutMs: number },
): Promise<Omit<CommandResult, 'stdout'>> {
  const [command, ...args] = argv;
  if (!command) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.on('data', onStdout);
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.toString('utf8');
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // The same words a remote shell would use, rather than "spawn df ENOENT".
      reject(
        error.code === 'ENOENT'
          ? new ReefError('reef_check_failed', `${command}: command not found on this machine`, {
              hint: 'Install it, or make sure it is on the PATH Reef runs with.',
              cause: error,
            })
          : error,
      );
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: timedOut ? null : code,
        stderr: timedOut ? `${stderr}killed after ${options.timeoutMs} ms`.trim() : stderr,
      });
    });
  });
}

export async function execLocal(
  argv: readonly string[],
  options: CommandOptions & { timeoutMs: number },
): Promise<CommandResult> {
  const stdout = boundedCollector(options.maxBytes ?? 8 * 1024 * 1024);
  const result = await streamLocal(argv, stdout.add, options);
  return { ...result, stdout: stdout.text() };
}

/** Keeps the first `max` bytes of a stream and drops the rest as it arrives (local and SSH `exec`). */
export function boundedCollector(max: number): { add(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add(chunk) {
      if (size >= max) return;
      chunks.push(chunk.subarray(0, max - size));
      size += chunk.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}
