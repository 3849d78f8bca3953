import type { AuditRecord } from '../audit/audit-entry.js';
import type { Incident } from '../incidents/incident.js';
import { redactText } from '../secrets/redact.js';
import { formatDuration } from '../util/duration.js';
import { formatLocal } from '../util/time.js';

/**
 * The Markdown note Reef keeps of an incident once it is resolved or escalated: what was seen, the
 * timeline of its states, the diagnosis, the actions taken (from the audit log) and the outcome. It is
 * redacted before it is written (facts and log samples can carry credentials) and then still goes
 * through the commit guard like everything else in memory.
 */

/** `incidents/2026-11-27-12-http-api-unreachable.md`: local opening date, number, what and where. */
export function notePath(incident: Incident, tz: string): string {
  const date = formatLocal(incident.openedAt, tz).slice(0, 10);
  const slug = `${incident.check}-${incident.target}-${incident.condition}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return `incidents/${date}-${incident.id}-${slug}.md`;
}

export function renderIncidentNote(incident: Incident, actions: readonly AuditRecord[], tz: string): string {
  const at = (iso: string) => formatLocal(iso, tz, true);
  const outcome =
    incident.state === 'resolved'
      ? `resolved after ${formatDuration(incident.durationMs ?? 0)} (${at(incident.resolvedAt ?? incident.updatedAt)})`
      : `${incident.state} (${at(incident.updatedAt)})`;
  const last = incident.history.at(-1);
  const lines = [
    `# Incident #${incident.id}: ${incident.check}/${incident.target} ${incident.condition} — ${incident.state}`,
    '',
    '| | |',
    '|---|---|',
    `| check | ${cell(incident.check)} |`,
    `| target | ${cell(incident.target)} |`,
    ...(incident.probe && incident.probe !== incident.target ? [`| probe | ${cell(incident.probe)} |`] : []),
    `| condition | ${cell(incident.condition)} |`,
    `| severity | ${incident.severity} |`,
    `| opened | ${at(incident.openedAt)} |`,
    `| outcome | ${cell(outcome)} |`,
    `| occurrences | ${incident.occurrences} |`,
    `| fingerprint | ${incident.fingerprint} |`,
    ...(incident.flapping
      ? [`| flapping | opened ${incident.openingsInWindow} times within the flap window |`]
      : []),
    '',
    '## What Reef saw',
    '',
    incident.summary,
    '',
    '## Timeline',
    '',
    ...incident.history.map(
      (h) =>
        `- ${at(h.at)} **${h.state}**${h.by ? ` by ${h.by}` : ''}${h.note ? ` — ${oneLine(h.note)}` : ''}`,
    ),
    '',
    '## Diagnosis',
    '',
    ...(incident.diagnosis
      ? [
          incident.diagnosis.summary,
          '',
          `- probable cause: ${oneLine(incident.diagnosis.probableCause)}`,
          `- confidence: ${Math.round(incident.diagnosis.confidence * 100)} %`,
          `- recommended runbook: ${incident.diagnosis.recommendedRunbookId ?? 'none (a human decides)'}`,
          ...(incident.diagnosis.alternativeRunbookIds.length > 0
            ? [`- alternatives: ${incident.diagnosis.alternativeRunbookIds.join(', ')}`]
            : []),
          `- by: ${incident.diagnosis.diagnoser} diagnoser, ${at(incident.diagnosis.at)}${incident.diagnosis.fallbackReason ? ` (LLM not used: ${oneLine(incident.diagnosis.fallbackReason)})` : ''}`,
        ]
      : ['No diagnosis was recorded.']),
    '',
    '## Actions',
    '',
    ...(actions.length === 0
      ? ['None recorded.']
      : actions.map(
          (a) =>
            `- ${at(a.at)} ${a.action} by ${a.actor}${a.runbookId ? ` (runbook ${a.runbookId})` : ''}: ${oneLine(a.why)}`,
        )),
    '',
    '## Outcome',
    '',
    `${incident.state === 'resolved' ? 'Resolved' : incident.state === 'escalated' ? 'Escalated to a human' : incident.state}${last?.note ? `: ${oneLine(last.note)}` : '.'}`,
    '',
    '## Facts',
    '',
    '```json',
    JSON.stringify(incident.facts, null, 2),
    '```',
    '',
  ];
  return redactText(lines.join('\n'));
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function cell(text: string): string {
  return oneLine(text).replaceAll('|', '\\|');
}
