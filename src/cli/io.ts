import type { Writable } from 'node:stream';
import { errorMessage, isReefError } from '../errors.js';
import { colors } from '../surfaces/format.js';

/** Where a command writes; injected so commands stay testable and the CLI stays a thin shell. */
export interface CliIo {
  out: Writable;
  err: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  color: boolean;
}

export function processIo(): CliIo {
  return {
    out: process.stdout,
    err: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  };
}

export function print(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}

/** Prints an error for a human: the message, its details, a hint; a stack only for unexpected errors with DEBUG set. */
export function printError(io: CliIo, error: unknown): void {
  const c = colors(io.color && Boolean((io.err as { isTTY?: boolean }).isTTY));
  if (isReefError(error)) {
    print(io.err, `${c.red(c.bold('error:'))} ${error.message}`);
    for (const detail of error.details) print(io.err, `  - ${detail}`);
    if (error.hint) print(io.err, `${c.cyan('hint:')} ${error.hint}`);
    return;
  }
  print(io.err, `${c.red(c.bold('error:'))} ${errorMessage(error)}`);
  if (io.env.DEBUG && error instanceof Error && error.stack) print(io.err, error.stack);
}
