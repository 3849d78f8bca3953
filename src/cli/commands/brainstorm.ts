import { userInfo } from 'node:os';
import path from 'node:path';
import { brainstormDeps } from '../../brainstorm/deps.js';
import { type BrainstormRun, runBrainstorm } from '../../brainstorm/run-brainstorm.js';
import { parseReportDate, windowEndingAt, windowForDate } from '../../brainstorm/window.js';
import { ReefError } from '../../errors.js';
import { memoryPaths } from '../../memory/open-memory.js';
import { openRuntime } from '../../runtime/runtime.js';
import { colors } from '../../surfaces/format.js';
import { formatLocal } from '../../util/time.js';
import { type CliIo, print } from '../io.js';

export interface BrainstormCommandOptions {
  now?: boolean;
  date?: string;
  json?: boolean;
  config?: string;
}

/**
 * `reef brainstorm [--now | --date YYYY-MM-DD] [--json]`: runs the Nightly Brainstorm here, for the last
 * 24 hours (or the night of a date, as the schedule would have), writes the report to memory, posts the
 * digest to the running surface, and prints it.
 */
export async function brainstormCommand(options: BrainstormCommandOptions, io: CliIo): Promise<number> {
  if (options.now && options.date !== undefined)
    throw new ReefError('reef_usage', '--now and --date are two different reports; give one of them', {
      hint: '`reef brainstorm --now` reviews the last 24 hours; `reef brainstorm --date 2026-11-27` that night.',
    });
  const date = options.date === undefined ? undefined : parseReportDate(options.date);
  const rt = await openRuntime({ configFlag: options.config, env: io.env, cwd: io.cwd });
  try {
    const tz = rt.config.timezone;
    const now = rt.clock.now();
    const window = date ? windowForDate(date, rt.config.schedule.brainstorm, tz) : windowEndingAt(now, tz);
    if (window.from.getTime() > now.getTime())
      throw new ReefError('reef_usage', `--date ${date} is in the future (in ${tz})`, {
        hint: 'Give today or an earlier date, or use --now for the last 24 hours.',
      });
    const warnings: string[] = [];
    const { deps, close } = brainstormDeps(rt, (message) => void warnings.push(message), io.env);
    let run: BrainstormRun;
    try {
      run = await runBrainstorm(deps, { window, trigger: `cli:${user()}` });
    } finally {
      await close();
    }
    const where = path.join(memoryPaths(rt).dir, run.path);
    if (options.json) {
      print(
        io.out,
        JSON.stringify({
          date: run.report.date,
          path: where,
          memory: run.memory,
          posted: run.posted,
          report: run.report,
        }),
      );
      return 0;
    }
    const c = colors(io.color);
    print(io.out, c.bold(run.digest.title));
    print(io.out, c.dim(`${formatLocal(window.from, tz)} → ${formatLocal(window.to, tz)}`));
    print(io.out, run.digest.summary);
    print(io.out);
    for (const w of warnings) print(io.err, `warning: ${w}`);
    switch (run.memory.status) {
      case 'committed':
        print(
          io.out,
          `Report: ${where} (committed ${run.memory.commit.slice(0, 8)}${run.memory.pushError ? `; push failed: ${run.memory.pushError}` : ''})`,
        );
        break;
      case 'unchanged':
        print(io.out, `Report: ${where} (unchanged)`);
        break;
      case 'disabled':
        print(io.out, 'Memory is disabled (memory.enabled: false): the report is in the digest only.');
        break;
      case 'blocked':
        print(
          io.out,
          c.yellow(
            `The report held a secret and was not committed; redacted copy: ${run.memory.quarantined.join(', ')}`,
          ),
        );
        break;
      case 'failed':
        print(io.out, c.yellow(`The report could not be written to memory: ${run.memory.error}`));
        break;
    }
    print(io.out, 'The digest was handed to the running surface (console or Slack).');
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
