import { cpus, totalmem } from 'node:os';
import type { ScenarioReport } from './scenario.js';

/**
 * The one benchmark report: every scenario's own table folded into one Markdown table (`| scenario |
 * figure | value |`), under the machine it ran on, so a run can be pasted into an issue or kept as
 * `bench/report.md` and compared with another machine's. Pure except `describeMachine`.
 */

/** How one scenario ended, as the runner saw it. */
export type ScenarioOutcome =
  | { name: string; status: 'ok'; wallMs: number; report: ScenarioReport }
  | { name: string; status: 'failed'; wallMs: number; error: string };

export interface Machine {
  cpuModel: string;
  cpuCount: number;
  memoryGiB: number;
  nodeVersion: string;
  platform: string;
  /** When the run started, already formatted. */
  date: string;
}

export interface ReportInput {
  machine: Machine;
  quick: boolean;
  outcomes: readonly ScenarioOutcome[];
}

/** This machine, now. */
export function describeMachine(now: Date = new Date()): Machine {
  const all = cpus();
  return {
    cpuModel: all[0]?.model.replace(/\s+/g, ' ').trim() || 'unknown CPU',
    cpuCount: all.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    nodeVersion: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: `${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  };
}

/** The Markdown report: heading, machine, one table with a row per figure and per failed scenario. */
export function renderReport({ machine, quick, outcomes }: ReportInput): string {
  const heading = quick
    ? '# Reef benchmark report (quick smoke: figures are not representative)'
    : '# Reef benchmark report';
  const totalMs = outcomes.reduce((sum, o) => sum + o.wallMs, 0);
  const times = outcomes
    .map((o) => `${o.name} ${seconds(o.wallMs)}${o.status === 'failed' ? ' (failed)' : ''}`)
    .join(', ');
  const rows: string[][] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'failed') {
      rows.push([outcome.name, 'failed', outcome.error]);
      continue;
    }
    const figures = figuresOf(outcome.report.table);
    if (figures.length === 0) rows.push([outcome.name, '(no figures)', '']);
    for (const { figure, value } of figures) rows.push([outcome.name, figure, value]);
  }
  const failed = outcomes.filter((o) => o.status === 'failed').length;
  return [
    heading,
    '',
    `- Machine: ${machine.cpuModel}, ${machine.cpuCount} CPUs, ${machine.memoryGiB} GiB memory, ${machine.platform}`,
    `- Node: ${machine.nodeVersion}`,
    `- Date: ${machine.date}`,
    `- Scenarios: ${times || 'none'}; total ${seconds(totalMs)}${failed > 0 ? `; ${failed} failed` : ''}`,
    '',
    '| scenario | figure | value |',
    '| --- | --- | --- |',
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
    '',
    "Each scenario's set-up and caveats are printed with its own table above (`npm run bench -- <name>`).",
    '',
  ].join('\n');
}

/**
 * Every body row of a scenario's table as one figure. Two columns: the first cell names the figure, the
 * second is its value. Wider tables: the first cell names the figure and the other cells are labelled
 * with their column headers in the value ("c=64: 805.1; c=256: 801.2"), except a row that fills only its
 * first value column (a figure that spans the columns), whose value is that cell alone.
 */
export function figuresOf(table: readonly (readonly string[])[]): { figure: string; value: string }[] {
  const [header = [], ...body] = table;
  const width = Math.max(0, ...table.map((row) => row.length));
  return body.map((row) => {
    const figure = row[0] ?? '';
    if (width <= 2) return { figure, value: row[1] ?? '' };
    const cells = row.slice(1);
    const filled = cells.flatMap((c, i) => (c.trim() === '' ? [] : [i]));
    if (filled.length === 1 && filled[0] === 0) return { figure, value: cells[0]! };
    const value = filled
      .map((i) => {
        const label = (header[i + 1] ?? '').trim();
        return label === '' ? cells[i]! : `${label}: ${cells[i]!}`;
      })
      .join('; ');
    return { figure, value };
  });
}

/** One line, pipes escaped: a cell cannot break the Markdown table. */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .trim()
    .replace(/\|/g, '\\|');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
