import type { SweepResult } from '../../checks/sweep.js';
import type { PauseState } from '../../guardrails/pause.js';
import type { Incident } from '../../incidents/incident.js';
import type { Catalog } from '../../runbooks/catalog.js';
import { conditionsOf } from '../../runbooks/runbook.js';
import type { LastSweep } from '../../runtime/sweep-processor.js';
import type { ScheduleInfo } from '../../schedule/scheduler.js';
import { formatLocal, relative } from '../../util/time.js';
import { escapeMrkdwn } from './blocks.js';
import { SEVERITY_EMOJI } from './incident-status.js';

/**
 * The texts `/reef status|incidents|runbooks|check` answer with: short mrkdwn reports built from the
 * same data the CLI prints, so a phone screen shows what `reef status` would.
 */

const LISTED = 20;

export function incidentLine(i: Incident): string {
  return `${SEVERITY_EMOJI[i.severity]} *#${i.id}* ${escapeMrkdwn(`${i.check}/${i.target}`)} ${escapeMrkdwn(i.condition)} — _${i.state}_ — ${escapeMrkdwn(i.summary)}`;
}

export function incidentsReport(open: readonly Incident[]): string {
  if (open.length === 0) return ':white_check_mark: No open incidents. All green.';
  const lines = open.slice(0, LISTED).map(incidentLine);
  if (open.length > LISTED) lines.push(`_…and ${open.length - LISTED} more: \`reef incidents\` lists all._`);
  return [`*Open incidents: ${open.length}*`, ...lines].join('\n');
}

export interface StatusFacts {
  now: Date;
  timezone: string;
  schedules: readonly ScheduleInfo[];
  workers: number;
  last: LastSweep | undefined;
  pause: PauseState;
  open: readonly Incident[];
  /** LLM spend today, once the diagnosis reports one. */
  spend?: string;
}

export function statusReport(f: StatusFacts): string {
  const lines = ['*Reef status*'];
  if (f.schedules.length === 0) lines.push('Schedules: none (no `reef scheduler` or `reef start` has run)');
  for (const s of f.schedules) {
    const next = s.next
      ? `next ${formatLocal(s.next, f.timezone)} (${relative(s.next, f.now)})`
      : 'not scheduled';
    lines.push(`Schedule \`${escapeMrkdwn(s.id)}\` \`${escapeMrkdwn(s.pattern ?? '')}\`: ${next}`);
  }
  lines.push(`Workers online: ${f.workers}`);
  if (f.pause.paused)
    lines.push(
      `:double_vertical_bar: *Paused* by ${escapeMrkdwn(f.pause.by)} since ${formatLocal(f.pause.at, f.timezone)}${f.pause.reason ? ` (${escapeMrkdwn(f.pause.reason)})` : ''}: no runbook runs until \`/reef resume\``,
    );
  if (f.last) {
    const c = f.last.counts;
    lines.push(
      `Last sweep: ${formatLocal(f.last.startedAt, f.timezone)} (${relative(f.last.startedAt, f.now)}), ${f.last.probed} probed in ${f.last.durationMs} ms: ${c.ok} ok, ${c.warning} warning, ${c.critical} critical, ${c.errors} check errors`,
    );
  } else lines.push('Last sweep: none yet');
  lines.push(`LLM spend today: ${f.spend ?? 'not reported (rule-based diagnosis only)'}`);
  lines.push('', incidentsReport(f.open));
  return lines.join('\n');
}

export function runbooksReport(catalog: Catalog): string {
  if (catalog.runbooks.length === 0)
    return `No runbooks loaded${catalog.dir ? ` from \`${escapeMrkdwn(catalog.dir)}\`` : ''}: every incident goes to a human.`;
  const lines = [`*Runbooks: ${catalog.runbooks.length}*`];
  for (const r of catalog.runbooks) {
    const target = r.match.target === undefined ? '' : ` on ${[r.match.target].flat().join(', ')}`;
    lines.push(
      `• \`${escapeMrkdwn(r.id)}\` — ${escapeMrkdwn(r.title)} (mode ${r.mode}, risk ${r.risk}) matches ${r.match.check} ${escapeMrkdwn(conditionsOf(r.match).join('|'))}${escapeMrkdwn(target)}`,
    );
  }
  if (catalog.errors.length > 0)
    lines.push(
      `:warning: ${catalog.errors.length} runbook error(s) kept some runbooks out: run \`reef runbooks lint\`.`,
    );
  return lines.join('\n');
}

export function sweepReport(result: SweepResult, target: string | undefined): string {
  if (target && result.probed === 0) return `No configured target is named \`${escapeMrkdwn(target)}\`.`;
  const problems = result.findings.filter((f) => f.severity !== 'ok');
  const count = (s: string) => result.findings.filter((f) => f.severity === s).length;
  const lines = [
    `*Sweep${target ? ` of \`${escapeMrkdwn(target)}\`` : ''} done* in ${result.durationMs} ms: ${result.probed} probed, ${count('ok')} ok, ${count('warning')} warning, ${count('critical')} critical, ${result.errors.length} check error(s)`,
  ];
  for (const f of problems.slice(0, LISTED))
    lines.push(
      `${SEVERITY_EMOJI[f.severity]} ${escapeMrkdwn(`${f.check}/${f.target}`)} ${escapeMrkdwn(f.condition)}: ${escapeMrkdwn(f.summary)}`,
    );
  if (problems.length > LISTED) lines.push(`_…and ${problems.length - LISTED} more._`);
  for (const e of result.errors.slice(0, LISTED))
    lines.push(
      `:grey_question: ${escapeMrkdwn(`${e.check}/${e.target}`)}: the check could not run: ${escapeMrkdwn(e.message)}`,
    );
  return lines.join('\n');
}
