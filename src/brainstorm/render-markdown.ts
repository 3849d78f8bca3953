import { formatDuration } from '../util/duration.js';
import { formatLocal } from '../util/time.js';
import type { BrainstormReport, IncidentSummary } from './report.js';
import { days, fmt } from './suggestions.js';

/**
 * The report as Markdown (`memory/brainstorm/YYYY-MM-DD.md`): a summary, the suggestions with their
 * evidence, then one section per computation with its table. Times are local to the configured zone.
 * Deterministic for a given report, so a re-run of the same night changes nothing in memory.
 */
export function renderMarkdown(report: BrainstormReport): string {
  const tz = report.timezone;
  const t = report.thresholds;
  const out: string[] = [];
  const section = (title: string, body: string[]) => out.push('', `## ${title}`, '', ...body);

  out.push(
    `# Nightly Brainstorm — ${report.date}`,
    '',
    `Reviewed ${formatLocal(report.from, tz)} → ${formatLocal(report.to, tz)} (${tz}). Every number comes from Reef's own measurements, computed by code.`,
  );
  section('Summary', [
    ...(report.prose ? [report.prose, ''] : []),
    ...summaryLines(report).map((l) => `- ${l}`),
  ]);
  section(
    'Suggestions',
    report.suggestions.length === 0
      ? ['Nothing needs attention.']
      : report.suggestions.flatMap((s, i) => [
          `${i + 1}. **${escapeInline(s.title)}**`,
          ...s.evidence.map((e) => `   - ${escapeInline(e)}`),
        ]),
  );

  const s = report.summary;
  section('Last 24 hours', [
    ...table(
      [
        'opened',
        'fixed automatically',
        'approved',
        'escalated',
        'dismissed',
        'resolved',
        'mean time to resolve',
      ],
      [
        [
          s.opened,
          s.fixedAutomatically,
          s.approved,
          s.escalated,
          s.dismissed,
          s.resolved,
          s.mttrMs === null ? '–' : formatDuration(s.mttrMs),
        ].map(String),
      ],
    ),
    ...(Object.keys(s.openedByCheck).length > 0
      ? [
          '',
          `Opened by check: ${Object.entries(s.openedByCheck)
            .sort((a, b) => b[1] - a[1])
            .map(([check, n]) => `${check} ${n}`)
            .join(', ')}.`,
        ]
      : []),
  ]);

  const driftTable = (rows: BrainstormReport['errorDrift'], what: string, examined: number) =>
    rows.length === 0
      ? [`No ${what} moved by ${fmt(t.changePercent)} % or more over 7 days (${examined} examined).`]
      : [
          ...table(
            [
              'target',
              '7 days ago',
              'now',
              'change over 7 days',
              'week over week',
              'weekly means (oldest first)',
            ],
            rows.map((r) => [
              r.target,
              `${fmt(r.start)} ${r.unit}`,
              `${fmt(r.end)} ${r.unit}`,
              `${signed(r.changePercent)} %`,
              r.weekOverWeekPercent === null ? '–' : `${signed(r.weekOverWeekPercent)} %`,
              r.weekly.map((w) => (w === null ? '–' : fmt(w))).join(' · '),
            ]),
          ),
          '',
          `${rows.length} of ${examined} past ±${fmt(t.changePercent)} %; "7 days ago" and "now" are the ends of a least-squares line through the hourly means.`,
        ];
  section('Error-rate drift', driftTable(report.errorDrift, 'error rate', report.examined.errorRate));
  section('Latency drift', driftTable(report.latencyDrift, 'endpoint latency', report.examined.latency));

  section(
    'Restarts per workload',
    report.restarts.length === 0
      ? [`No restarts in 7 days (${report.examined.workloads} workloads with restart history).`]
      : table(
          [
            'workload',
            'restarts 24 h',
            'restarts 7 days',
            'OOMKilled 24 h',
            'OOMKilled per day (7 days)',
            'leak?',
          ],
          report.restarts.map((r) => [
            `${r.cluster}/${r.namespace}/${r.workload}`,
            String(r.restarts24h),
            String(r.restarts7d),
            String(r.oom24h),
            r.oomPerDay.join(' · '),
            r.leakSuspected ? 'rising OOM kills' : '',
          ]),
        ),
  );

  section(
    'Disk growth',
    report.disks.length === 0
      ? [`No mount is forecast to fill within ${t.diskHorizonDays} days (${report.examined.disks} examined).`]
      : table(
          ['mount', 'used', 'growth per day', 'full in', 'around'],
          report.disks.map((d) => [
            d.target,
            `${fmt(d.usedPercent)} %`,
            `${fmt(d.growthPerDay)} points`,
            days(d.daysToFull),
            formatLocal(d.fullAt, tz),
          ]),
        ),
  );

  section(
    `Certificates due within ${t.certificateDays} days`,
    report.certificates.length === 0
      ? ['None.']
      : table(
          ['date', 'certificate', 'expires in', 'subject'],
          report.certificates.map((c) => [c.date, c.target, days(c.daysLeft), c.subject ?? '']),
        ),
  );

  section(
    'Flapping targets',
    report.flapping.length === 0
      ? ['None.']
      : table(
          ['target', 'condition', 'openings', 'last'],
          report.flapping.map((f) => [
            `${f.check}/${f.target}`,
            f.condition,
            String(f.openings),
            f.lastSummary,
          ]),
        ),
  );

  section('Runbooks', [
    `Promotion candidates (approved ${t.promoteAfter}+ times in a row as proposed, every verification passing):`,
    '',
    ...(report.promotions.length === 0
      ? ['None.']
      : table(
          ['runbook', 'approvals in a row', 'mode now'],
          report.promotions.map((p) => [p.runbookId, String(p.streak), p.mode ?? 'unknown']),
        )),
    '',
    'Failed in the last 7 days:',
    '',
    ...(report.failedRunbooks.length === 0
      ? ['None.']
      : table(
          ['runbook', 'incidents', 'last failure', 'reason'],
          report.failedRunbooks.map((f) => [
            f.runbookId,
            String(f.failures),
            formatLocal(f.lastAt, tz),
            f.lastReason,
          ]),
        )),
  ]);

  section(
    'Deployments',
    report.deployments.length === 0
      ? ['No rollout in the last 7 days was followed by a change in error rate or restarts.']
      : table(
          ['deployment', 'revision', 'rolled out', 'what changed', 'day before', 'since', 'change'],
          report.deployments.map((d) => [
            `${d.cluster}/${d.namespace}/${d.deployment}`,
            d.revision,
            formatLocal(d.rolloutAt, tz),
            d.metric === 'error-rate' ? `error rate of ${d.series}` : 'restarts',
            `${fmt(d.before)}${d.unit}`,
            `${fmt(d.after)}${d.unit}`,
            d.changePercent === null ? 'from none' : `${signed(d.changePercent)} %`,
          ]),
        ),
  );

  if (report.notes.length > 0)
    section(
      'Notes',
      report.notes.map((n) => `- ${escapeInline(n)}`),
    );
  return `${out.join('\n')}\n`;
}

/** The headline lines (also the chat digest's). */
export function summaryLines(report: BrainstormReport): string[] {
  const lines = [incidentLine(report.summary)];
  const attention = [
    report.disks.length > 0
      ? `${report.disks.length} disk${report.disks.length === 1 ? '' : 's'} filling up`
      : '',
    report.certificates.length > 0
      ? `${report.certificates.length} certificate${report.certificates.length === 1 ? '' : 's'} due`
      : '',
    report.errorDrift.length > 0
      ? `${report.errorDrift.length} error-rate drift${plural(report.errorDrift.length)}`
      : '',
    report.latencyDrift.length > 0
      ? `${report.latencyDrift.length} latency drift${plural(report.latencyDrift.length)}`
      : '',
    report.deployments.length > 0
      ? `${report.deployments.length} rollout${report.deployments.length === 1 ? '' : 's'} followed by a change`
      : '',
    report.flapping.length > 0
      ? `${report.flapping.length} flapping target${report.flapping.length === 1 ? '' : 's'}`
      : '',
    report.promotions.length > 0
      ? `${report.promotions.length} runbook${report.promotions.length === 1 ? '' : 's'} ready for auto`
      : '',
  ].filter(Boolean);
  lines.push(
    attention.length > 0
      ? `Needs a look: ${attention.join(', ')}.`
      : 'Nothing is drifting toward an incident.',
  );
  return lines;
}

function incidentLine(s: IncidentSummary): string {
  const mttr =
    s.mttrMs === null ? '' : `; mean time to resolve ${formatDuration(s.mttrMs)} (${s.resolved} resolved)`;
  return `Last 24 h: ${s.opened} incident${s.opened === 1 ? '' : 's'} opened, ${s.fixedAutomatically} fixed automatically, ${s.approved} approved, ${s.escalated} escalated, ${s.dismissed} dismissed${mttr}.`;
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${fmt(value)}`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)];
}

function escapeCell(text: string): string {
  return escapeInline(text).replaceAll('|', '\\|');
}

function escapeInline(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
