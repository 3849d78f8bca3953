import type { Incident, IncidentHistoryEntry } from '../../incidents/incident.js';
import { formatDuration } from '../../util/duration.js';
import { escapeMrkdwn, slackDate } from './blocks.js';

/**
 * The words an incident message uses for who did what and where the incident stands, derived from the
 * incident itself (its state and history), so whichever bot process renders it, and in whatever order
 * events arrive, the message says the same thing.
 */

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/** `U123` → `<@U123>` (Slack shows the name), `U1+U2` → both, `cli:alice` → `alice (console)`. */
export function who(by: string | undefined): string {
  if (!by) return 'someone';
  if (by === 'reef') return 'Reef';
  const parts = by.split('+');
  if (parts.length > 1 && parts.every((p) => SLACK_USER.test(p)))
    return parts.map((p) => `<@${p}>`).join(' and ');
  if (SLACK_USER.test(by)) return `<@${by}>`;
  if (by.startsWith('cli:')) return `${escapeMrkdwn(by.slice(4))} (console)`;
  return escapeMrkdwn(by);
}

export const SEVERITY_EMOJI = {
  critical: ':red_circle:',
  warning: ':large_yellow_circle:',
  ok: ':white_check_mark:',
} as const;

/** The emoji that leads the header: the severity while it is open, then how it ended. */
export function stateEmoji(incident: Incident): string {
  switch (incident.state) {
    case 'resolved':
      return ':white_check_mark:';
    case 'dismissed':
      return ':no_bell:';
    case 'silenced':
      return ':zzz:';
    case 'executing':
    case 'verifying':
      return ':hammer_and_wrench:';
    case 'escalated':
    case 'failed':
      return ':rotating_light:';
    default:
      return SEVERITY_EMOJI[incident.severity];
  }
}

function lastEntry(
  incident: Incident,
  state: IncidentHistoryEntry['state'],
): IncidentHistoryEntry | undefined {
  for (let i = incident.history.length - 1; i >= 0; i--)
    if (incident.history[i]?.state === state) return incident.history[i];
  return undefined;
}

/** Who asked for the latest run and which runbook, from the `executing` entry the worker wrote. */
function latestRun(incident: Incident): string | undefined {
  const run = lastEntry(incident, 'executing');
  if (!run) return undefined;
  const runbook = run.note?.replace(/^runbook /, '') ?? 'the runbook';
  const asked = run.by === 'reef' ? 'run by Reef (mode auto)' : `approved by ${who(run.by)}`;
  return `${asked} → \`${escapeMrkdwn(runbook)}\``;
}

export interface StatusContext {
  now: Date;
  /** When the current request for approval expires. */
  expiresAt?: Date;
  /** Approvers recorded so far for the proposed runbook (a high-risk one needs two). */
  approvers?: readonly string[];
  approvalsRequired?: number;
  /** The approvals are complete and the run is queued (the worker has not picked it up yet). */
  queued?: boolean;
}

/** One line: where the incident stands and how it got there (`approved by @ana → pod-restart → verifying`). */
export function statusLine(incident: Incident, ctx: StatusContext): string {
  const run = latestRun(incident);
  const latest = incident.history.at(-1);
  const note = latest?.note ? `: ${escapeMrkdwn(latest.note)}` : '';
  switch (incident.state) {
    case 'open':
    case 'diagnosed':
      return incident.flapping ? '*Flapping*: reported once, then quiet for the flap window' : '*Open*';
    case 'awaiting-approval': {
      if (ctx.queued)
        return `*Approved* by ${(ctx.approvers ?? []).map((a) => who(a)).join(' and ')}: queued, a worker starts it shortly`;
      const parts = ['*Waiting for approval*'];
      if (ctx.approvers && ctx.approvers.length > 0)
        parts.push(
          `approved by ${ctx.approvers.map((a) => who(a)).join(', ')} (${ctx.approvers.length} of ${ctx.approvalsRequired ?? 1}): a second, different approver is needed`,
        );
      if (ctx.expiresAt)
        parts.push(
          ctx.expiresAt.getTime() > ctx.now.getTime()
            ? `expires ${slackDate(ctx.expiresAt)}`
            : 'expired: nothing will run',
        );
      return parts.join(' · ');
    }
    case 'executing':
      return `*Running*${run ? `: ${run}` : ''}`;
    case 'verifying':
      return `*Verifying*${run ? `: ${run} ran` : ''}; the check runs again shortly`;
    case 'resolved':
      return `*Resolved* after ${formatDuration(incident.durationMs ?? 0)}${run ? ` (${run}, verified)` : ''}`;
    case 'failed':
      return `*Failed*${run ? ` (${run})` : ''}${note}`;
    case 'escalated':
      return `*Escalated to a human*${note}`;
    case 'dismissed':
      return `*Dismissed* by ${who(latest?.by)}${note}`;
    case 'silenced':
      return `*Silenced* by ${who(latest?.by)}${incident.silencedUntil ? ` until ${slackDate(incident.silencedUntil)}` : ''}`;
  }
}
