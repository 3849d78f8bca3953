import { diskScenario } from './disk.js';
import { executionsScenario } from './executions.js';
import { logScanScenario } from './log-scan.js';
import { podsScenario } from './pods.js';
import type { Scenario, ScenarioReport } from './scenario.js';
import { sweepScenario } from './sweep.js';
import { renderTable } from './table.js';

/** Every benchmark scenario, listed explicitly. Add a new scenario file and list it here. */
const SCENARIOS: readonly Scenario[] = [
  sweepScenario,
  diskScenario,
  podsScenario,
  logScanScenario,
  executionsScenario,
];

/**
 * `npm run bench` runs every scenario; `npm run bench -- sweep` runs the named ones. Each prints a table
 * and one `BENCH_JSON {…}` line. Exit code 1 if a scenario failed, 2 for an unknown name.
 */
async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    process.stderr.write(
      `Unknown scenario ${unknown.map((n) => `"${n}"`).join(', ')}. Available: ${SCENARIOS.map((s) => s.name).join(', ')} (npm run bench -- <name>).\n`,
    );
    return 2;
  }
  const selected = argv.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => argv.includes(s.name));
  let failed = 0;
  for (const scenario of selected) {
    const log = (line: string) => process.stdout.write(`[${scenario.name}] ${line}\n`);
    log(scenario.description);
    try {
      const report = await runWithDeadline(scenario, log);
      process.stdout.write(`\n${renderTable(report.table)}\n\n`);
      for (const note of report.notes) process.stdout.write(`${note}\n`);
      process.stdout.write(`BENCH_JSON ${JSON.stringify({ scenario: scenario.name, ...report.figures })}\n`);
    } catch (error) {
      failed++;
      process.stderr.write(
        `[${scenario.name}] failed: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
    }
  }
  return failed > 0 ? 1 : 0;
}

/** Past the deadline the scenario is aborted and given a few seconds to release its servers and files. */
async function runWithDeadline(scenario: Scenario, log: (line: string) => void): Promise<ScenarioReport> {
  const controller = new AbortController();
  const running = scenario.run({ log, signal: controller.signal });
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
