import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { systemClock } from '../../adapters/clock.js';
import { exitCodeFor, runSweep, type SweepResult } from '../../checks/sweep.js';
import { loadConfig } from '../../config/load.js';
import { errorMessage, isReefError, ReefError } from '../../errors.js';
import { createCheckContext } from '../../runtime/check-context.js';
import { openRuntime } from '../../runtime/runtime.js';
import { checksQueue, checksQueueEvents, SWEEP_JOB } from '../../schedule/queues.js';
import { colors, severityLabel, table } from '../../surfaces/format.js';
import { type CliIo, print, printError } from '../io.js';

export interface CheckOptions {
  once?: boolean;
  json?: boolean;
  config?: string;
  timeout?: string;
}

/**
 * `reef check [target]`: with `--once`, probe everything from this shell (no Redis needed); without, ask
 * the running Reef for a sweep through the queue and wait for its findings. Exit code follows the Nagios
 * plugin convention: 0 ok, 1 warning, 2 critical, 3 unknown (config error, check error, no Reef).
 */
export async function checkCommand(
  target: string | undefined,
  options: CheckOptions,
  io: CliIo,
): Promise<number> {
  let result: SweepResult;
  try {
    result = options.once
      ? await checkOnce(target, options, io)
      : await checkThroughQueue(target, options, io);
  } catch (error) {
    if (options.json) {
      const where = isReefError(error) && error.code.startsWith('reef_config') ? 'config' : 'reef';
      const message = isReefError(error) ? [error.message, ...error.details].join('; ') : errorMessage(error);
      print(io.out, JSON.stringify({ findings: [], errors: [{ check: where, target: where, message }] }));
    }
    printError(io, error);
    return 3;
  }
  if (target && result.probed === 0) {
    printError(
      io,
      new ReefError('reef_usage', `No configured target is named "${target}"`, {
        hint: 'Run `reef check --once` to see every target.',
      }),
    );
    return 3;
  }
  if (options.json) print(io.out, JSON.stringify(toJson(result)));
  else printResult(result, io);
  return exitCodeFor(result);
}

async function checkOnce(target: string | undefined, options: CheckOptions, io: CliIo): Promise<SweepResult> {
  const { config } = loadConfig(options.config, io.env, io.cwd);
  const { context, close } = createCheckContext(config, { clock: systemClock });
  try {
    return await runSweep(config, context, { only: target });
  } finally {
    await close();
  }
}

async function checkThroughQueue(
  target: string | undefined,
  options: CheckOptions,
  io: CliIo,
): Promise<SweepResult> {
  const rt = await openRuntime({ configFlag: options.config, env: io.env, cwd: io.cwd });
  const queue = checksQueue(rt.redis.bullConnection(), rt.prefix);
  const events = checksQueueEvents(rt.redis.bullConnection(), rt.prefix);
  try {
    if ((await queue.getWorkersCount()) === 0) {
      throw new ReefError(
        'reef_no_worker',
        `No Reef worker is running (looked in ${rt.redis.label}, prefix "${rt.prefix}")`,
        {
          hint: 'Start Reef with `reef start` (or `reef worker`), or run `reef check --once` to probe from this shell.',
        },
      );
    }
    await events.waitUntilReady();
    const timeoutMs = Number(options.timeout ?? 120) * 1000;
    const job = await queue.add(
      SWEEP_JOB,
      { trigger: `cli:${safeUser()}`, ...(target ? { only: target } : {}) },
      { jobId: `cli-${randomUUID()}` },
    );
    try {
      return (await job.waitUntilFinished(events, timeoutMs)) as SweepResult;
    } catch (error) {
      const message = errorMessage(error);
      if (/timed out|timeout/i.test(message)) {
        throw new ReefError('reef_timeout', `The sweep did not finish within ${timeoutMs / 1000} s`, {
          hint: 'The workers may be busy or stuck; see `reef status`, or raise --timeout.',
        });
      }
      throw new ReefError('reef_check_failed', `The sweep failed in the worker: ${message}`, {
        hint: 'See the worker logs.',
      });
    }
  } finally {
    await events.close();
    await queue.close();
    await rt.close();
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The documented JSON shape, with keys in a stable order. */
export function toJson(result: Pick<SweepResult, 'findings' | 'errors'>) {
  return {
    findings: result.findings.map((f) => ({
      check: f.check,
      target: f.target,
      condition: f.condition,
      severity: f.severity,
      summary: f.summary,
      fingerprint: f.fingerprint,
      facts: f.facts,
      observedAt: f.observedAt,
    })),
    errors: result.errors.map((e) => ({ check: e.check, target: e.target, message: e.message })),
  };
}

function printResult(result: SweepResult, io: CliIo): void {
  const c = colors(io.color);
  const rows = result.findings.map((f) => [
    severityLabel(f.severity, c),
    f.check,
    f.target,
    f.condition,
    f.summary,
  ]);
  if (rows.length > 0) print(io.out, table(['SEVERITY', 'CHECK', 'TARGET', 'CONDITION', 'SUMMARY'], rows));
  if (result.errors.length > 0) {
    print(io.out);
    print(io.out, c.red(c.bold('Check errors (the check could not run; the target may be fine):')));
    for (const e of result.errors) print(io.out, `  ${e.check}/${e.target}: ${e.message}`);
  }
  const count = (s: string) => result.findings.filter((f) => f.severity === s).length;
  print(io.out);
  print(
    io.out,
    `${result.probed} target${result.probed === 1 ? '' : 's'} in ${result.durationMs} ms: ${count('ok')} ok, ${count('warning')} warning, ${count('critical')} critical, ${result.errors.length} check error${result.errors.length === 1 ? '' : 's'}`,
  );
}
