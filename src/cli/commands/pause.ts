import { userInfo } from 'node:os';
import { PauseFlag } from '../../guardrails/pause.js';
import { openRuntime } from '../../runtime/runtime.js';
import { formatLocal } from '../../util/time.js';
import { type CliIo, print } from '../io.js';

/**
 * `reef pause [--reason]`: no runbook step starts, in any Reef process sharing this Redis, until
 * `reef resume`. Checks, incidents and chat carry on.
 */
export async function pauseCommand(
  options: { config?: string; reason?: string },
  io: CliIo,
): Promise<number> {
  const rt = await openRuntime({ configFlag: options.config, env: io.env, cwd: io.cwd });
  try {
    const flag = new PauseFlag(rt.connection, rt.prefix);
    const at = rt.clock.now();
    const by = `cli:${user()}`;
    const before = await flag.pause(by, at, options.reason);
    const tz = rt.config.timezone;
    const again = before.paused
      ? ` (it was already paused by ${before.by} since ${formatLocal(before.at, tz)})`
      : '';
    print(
      io.out,
      `Reef paused by ${by} at ${formatLocal(at, tz)}${options.reason ? `: ${options.reason}` : ''}${again}.`,
    );
    print(io.out, 'No runbook will run until `reef resume`; checks and incidents carry on.');
    return 0;
  } finally {
    await rt.close();
  }
}

/** `reef resume`: runbooks may run again. */
export async function resumeCommand(options: { config?: string }, io: CliIo): Promise<number> {
  const rt = await openRuntime({ configFlag: options.config, env: io.env, cwd: io.cwd });
  try {
    const flag = new PauseFlag(rt.connection, rt.prefix);
    const at = rt.clock.now();
    const by = `cli:${user()}`;
    const before = await flag.resume(by, at);
    const tz = rt.config.timezone;
    if (!before.paused) {
      print(io.out, 'Reef is not paused; nothing to resume.');
      return 0;
    }
    const why = before.reason ? ` (${before.reason})` : '';
    print(
      io.out,
      `Reef resumed by ${by} at ${formatLocal(at, tz)}; it was paused by ${before.by} since ${formatLocal(before.at, tz)}${why}.`,
    );
    return 0;
  } finally {
    await rt.close();
  }
}

function user(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
