import { execFile } from 'node:child_process';
import { ReefError } from '../errors.js';

/**
 * Runs the real `git` for the memory repository, with an identity of its own (no global git config
 * needed), no pager, no prompts (a push that needs a password fails instead of hanging), and a
 * deadline. A failure is a `reef_memory_failed` error carrying git's own words.
 */
export interface GitResult {
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Commit and author date (the clock's, so tests get stable history). */
  date?: Date;
  timeoutMs?: number;
}

const IDENTITY = { name: 'Reef', email: 'reef@localhost' };

export function git(args: readonly string[], options: GitOptions): Promise<GitResult> {
  const base = options.env ?? process.env;
  const env: NodeJS.ProcessEnv = {
    ...base,
    GIT_AUTHOR_NAME: IDENTITY.name,
    GIT_AUTHOR_EMAIL: IDENTITY.email,
    GIT_COMMITTER_NAME: IDENTITY.name,
    GIT_COMMITTER_EMAIL: IDENTITY.email,
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    // Batch mode: an ssh remote without a usable key fails at once instead of asking for a password.
    GIT_SSH_COMMAND: base.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    LC_ALL: 'C',
  };
  if (options.date) {
    const stamp = `${Math.floor(options.date.getTime() / 1000)} +0000`;
    env.GIT_AUTHOR_DATE = stamp;
    env.GIT_COMMITTER_DATE = stamp;
  }
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'core.quotepath=off', '-c', 'commit.gpgsign=false', ...args],
      { cwd: options.cwd, env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && !stderr) {
          return reject(
            new ReefError('reef_memory_failed', 'git is not installed (or not on PATH)', {
              hint: 'Install git (`apt-get install git`), or set memory.enabled: false in reef.yaml.',
              cause: error,
            }),
          );
        }
        reject(
          new ReefError(
            'reef_memory_failed',
            `git ${args[0]} failed in ${options.cwd}: ${firstLines(stderr || error.message)}`,
            {
              cause: error,
            },
          ),
        );
      },
    );
  });
}

function firstLines(text: string): string {
  return text.trim().split('\n').slice(0, 3).join(' / ');
}
