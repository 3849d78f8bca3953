import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, isReefError, ReefError } from '../src/errors.js';
import { brainstormScenario } from './brainstorm.js';
import { diagnosisScenario } from './diagnosis.js';
import { diskScenario } from './disk.js';
import { executionsScenario } from './executions.js';
import { logScanScenario } from './log-scan.js';
import { metricsScenario } from './metrics.js';
import { type BenchArgs, benchUsage, parseBenchArgs } from './parse-args.js';
import { podsScenario } from './pods.js';
import { describeMachine, renderReport, type ScenarioOutcome } from './report.js';
import type { Scenario, ScenarioReport } from './scenario.js';
import { slackScenario } from './slack.js';
import { sweepScenario } from './sweep.js';
import { renderTable } from './table.js';

/** Every benchmark scenario, listed explicitly. Add a new scenario file and list it here. */
const SCENARIOS: readonly Scenario[] = [
  sweepScenario,
  diskScenario,
  podsScenario,
  logScanScenario,
  executionsScenario,
  slackScenario,
  metricsScenario,
  diagnosisScenario,
  brainstormScenario,
];

/**
 * `npm run bench` runs every scenario; `npm run bench -- sweep` runs the named ones; `--quick` shrinks
 * every scenario to a smoke run; `--out FILE` also writes the report to FILE. Each scenario prints its
 * table and one `BENCH_JSON {…}` line, then one Markdown report gathers them all. Exit code 1 if a
 * scenario failed (or the report could not be written), 2 for a wrong flag, name or report path.
 */
async function main(argv: readonly string[]): Promise<number> {
  const names = SCENARIOS.map((s) => s.name);
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv, names);
    if (args.out !== null) await checkWritable(args.out);
  } catch (error) {
    if (!isReefError(error)) throw error;
    process.stderr.write(`${error.describe()}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${benchUsage(names)}\n`);
    return 0;
  }
  const machine = describeMachine();
  const selected = args.names.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => args.names.includes(s.name));
  const outcomes: ScenarioOutcome[] = [];
  for (const scenario of selected) {
    const log = (line: string) => process.stdout.write(`[${scenario.name}] ${line}\n`);
    log(scenario.description);
    const t0 = performance.now();
    try {
      const report = await runWithDeadline(scenario, log, args.quick);
      outcomes.push({ name: scenario.name, status: 'ok', wallMs: performance.now() - t0, report });
      process.stdout.write(`\n${renderTable(report.table)}\n\n`);
      for (const note of report.notes) process.stdout.write(`${note}\n`);
      process.stdout.write(`BENCH_JSON ${JSON.stringify({ scenario: scenario.name, ...report.figures })}\n`);
    } catch (error) {
      const reason = errorMessage(error).split('\n')[0]!.slice(0, 300);
      outcomes.push({ name: scenario.name, status: 'failed', wallMs: performance.now() - t0, error: reason });
      process.stderr.write(
        `[${scenario.name}] failed: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
    }
  }
  const markdown = renderReport({ machine, quick: args.quick, outcomes });
  process.stdout.write(`\n${markdown}`);
  let code = outcomes.some((o) => o.status === 'failed') ? 1 : 0;
  if (args.out !== null) {
    try {
      await writeFile(args.out, markdown);
      process.stdout.write(`(report written to ${args.out})\n`);
    } catch (error) {
      process.stderr.write(
        `Could not write the report to ${args.out}: ${errorMessage(error)} (it is printed above).\n`,
      );
      code = 1;
    }
  }
  return code;
}

/** Checked before any scenario runs: a long run is not lost to a report path that cannot be written. */
async function checkWritable(file: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const problem = await access(dir, constants.W_OK).then(
    () => null,
    (error: unknown) => errorMessage(error),
  );
  if (problem !== null)
    throw new ReefError('reef_usage', `--out ${file}: cannot write in ${dir} (${problem}).`, {
      hint: 'Give a file in an existing, writable directory, e.g. --out bench/report.md.',
    });
  const isDirectory = await stat(file).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (isDirectory)
    throw new ReefError('reef_usage', `--out ${file} is a directory.`, {
      hint: 'Give a file name, e.g. --out bench/report.md.',
    });
}

/** Past the deadline the scenario is aborted and given a few seconds to release its servers and files. */
async function runWithDeadline(
  scenario: Scenario,
  log: (line: string) => void,
  quick: boolean,
): Promise<ScenarioReport> {
  const controller = new AbortController();
  const running = scenario.run({ log, signal: controller.signal, quick });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), scenario.deadlineMs);
  });
  try {
    const first = await Promise.race([running, expired]);
    if (first !== 'expired') return first;
  } finally {
    clearTimeout(timer);
  }
  controller.abort();
  const grace = new Promise<void>((resolve) => setTimeout(resolve, CLEANUP_GRACE_MS).unref());
  await Promise.race([running.then(noop, noop), grace]);
  throw new Error(`scenario "${scenario.name}" did not finish within ${scenario.deadlineMs} ms`);
}

const CLEANUP_GRACE_MS = 5000;
const noop = () => {};

// process.exit, not a natural end: after a missed deadline the scenario may still hold sockets open; the
// stand-in launcher kills its child by pid on exit.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
