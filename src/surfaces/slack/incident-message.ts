import type { FactValue } from '../../findings/finding.js';
import type { Incident } from '../../incidents/incident.js';
import { isActive } from '../../incidents/incident.js';
import { candidatesFor } from '../../operator/candidates.js';
import type { Catalog } from '../../runbooks/catalog.js';
import { planFor } from '../../runbooks/plan.js';
import { formatRenderProblems, render } from '../../runbooks/render.js';
import type { Runbook } from '../../runbooks/runbook.js';
import { ACTION_IDS, alternativeValue, approveValue, incidentOnlyValue } from './actions.js';
import {
  type Block,
  type Button,
  escapeMrkdwn,
  LIMITS,
  mrkdwn,
  plain,
  type SlackMessage,
  type StaticSelect,
  slackDate,
} from './blocks.js';
import { type StatusContext, stateEmoji, statusLine } from './incident-status.js';

/**
 * The one Slack message an incident gets, rendered from the incident as it is now: what is wrong, the
 * key facts, the diagnosis, the runbook Reef proposes with its exact steps (the same preview `reef
 * plan` prints), the buttons that make sense in its state, and a status line. Re-rendered and updated
 * in place at every move, so the channel holds one message per incident, never a stream of them.
 */

const FACTS_SHOWN = 12;

export interface IncidentMessageInput {
  incident: Incident;
  catalog: Catalog;
  status: StatusContext;
}

export function incidentMessage({ incident, catalog, status }: IncidentMessageInput): SlackMessage {
  const i = incident;
  const blocks: Block[] = [
    { type: 'header', text: plain(`${stateEmoji(i)} ${i.severity.toUpperCase()} · ${i.check}/${i.target}`) },
    {
      type: 'section',
      text: mrkdwn(`*${escapeMrkdwn(i.condition)}*: ${escapeMrkdwn(i.summary)}`),
      fields: [
        mrkdwn(`*Incident*\n#${i.id}`),
        mrkdwn(`*State*\n${i.state}${i.flapping ? ' (flapping)' : ''}`),
        mrkdwn(`*Opened*\n${slackDate(i.openedAt)}`),
        mrkdwn(`*Seen*\n${i.occurrences} time${i.occurrences === 1 ? '' : 's'}`),
      ],
    },
  ];
  const facts = factsText(i);
  if (facts) blocks.push({ type: 'section', text: mrkdwn(facts) });
  blocks.push(...diagnosisBlocks(i));
  if (isActive(i)) blocks.push(...planBlocks(i, catalog));
  const actions = actionElements(i, catalog, status);
  if (actions.length > 0)
    blocks.push({ type: 'actions', block_id: `reef-incident-${i.id}`, elements: actions });
  blocks.push({
    type: 'context',
    elements: [mrkdwn(statusLine(i, status)), mrkdwn(`#${i.id} · fingerprint \`${i.fingerprint}\``)],
  });
  return {
    text: `${i.severity.toUpperCase()} ${i.check}/${i.target} ${i.condition}: ${i.summary} (${i.state})`,
    blocks,
  };
}

function factsText(incident: Incident): string | undefined {
  const entries = Object.entries(incident.facts).filter(([, v]) => v !== null && v !== '');
  if (entries.length === 0) return undefined;
  const lines = entries.slice(0, FACTS_SHOWN).map(([k, v]) => `• ${escapeMrkdwn(k)}: ${factValue(v)}`);
  if (entries.length > FACTS_SHOWN)
    lines.push(`_…and ${entries.length - FACTS_SHOWN} more (\`reef incidents --json\` shows all)_`);
  return `*Key facts*\n${lines.join('\n')}`;
}

function factValue(value: FactValue): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const short = text.length > 200 ? `${text.slice(0, 199)}…` : text;
  return `\`${escapeMrkdwn(short.replaceAll('`', "'"))}\``;
}

function diagnosisBlocks(incident: Incident): Block[] {
  const d = incident.diagnosis;
  if (!d) return [];
  const by = d.diagnoser === 'anthropic' ? 'Claude (Anthropic)' : 'rules';
  const lines = [
    `*Diagnosis* (${by}, ${Math.round(d.confidence * 100)}% confidence)`,
    escapeMrkdwn(d.summary),
    `*Probable cause:* ${escapeMrkdwn(d.probableCause)}`,
  ];
  const blocks: Block[] = [{ type: 'section', text: mrkdwn(lines.join('\n')) }];
  if (d.fallbackReason)
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`The LLM's answer was not used: ${escapeMrkdwn(d.fallbackReason)}`)],
    });
  return blocks;
}

/** The runbook on offer and its exact steps, or why there is none. */
function planBlocks(incident: Incident, catalog: Catalog): Block[] {
  const { plan } = planFor(incident, catalog);
  const { best } = candidatesFor(incident, catalog);
  if (plan.decision === 'escalate') {
    return [{ type: 'section', text: mrkdwn(`*No runbook* — ${escapeMrkdwn(plan.reason)}.`) }];
  }
  // The proposal of record wins over a fresh match (runbooks may have changed since it was made).
  const runbook = best ?? plan.runbook;
  const rendered: { steps: { description: string; mutates: boolean }[] } | { problems: string[] } =
    runbook !== plan.runbook
      ? renderedSteps(runbook, incident)
      : plan.decision === 'refuse'
        ? { problems: plan.problems }
        : { steps: plan.steps };
  const head = `*${incident.state === 'executing' || incident.state === 'verifying' ? 'Runbook' : 'Proposed runbook'}:* \`${escapeMrkdwn(runbook.id)}\` — ${escapeMrkdwn(runbook.title)} (mode ${runbook.mode}, risk ${runbook.risk}${runbook.approvalsRequired === 2 ? ', two approvers' : ''})`;
  if ('problems' in rendered) {
    const problems = rendered.problems.map((p) => `• ${escapeMrkdwn(p)}`).join('\n');
    return [{ type: 'section', text: mrkdwn(`${head}\n*Cannot run safely:*\n${problems}`) }];
  }
  const steps = rendered.steps
    .map(
      (s, n) =>
        `${n + 1}. \`${escapeMrkdwn(s.description.replaceAll('`', "'"))}\`${s.mutates ? '' : ' _(read-only)_'}`,
    )
    .join('\n');
  return [{ type: 'section', text: mrkdwn(`${head}\n${steps || '_no steps_'}`) }];
}

function renderedSteps(
  runbook: Runbook,
  incident: Incident,
): { steps: { description: string; mutates: boolean }[] } | { problems: string[] } {
  const result = render(runbook, incident);
  return result.status === 'ok'
    ? { steps: result.steps.map((s) => ({ description: s.description, mutates: s.mutates })) }
    : { problems: formatRenderProblems(runbook, result.problems) };
}

function actionElements(
  incident: Incident,
  catalog: Catalog,
  status: StatusContext,
): (Button | StaticSelect)[] {
  const id = incident.id;
  const dismiss: Button = {
    type: 'button',
    action_id: ACTION_IDS.dismiss,
    text: plain('Dismiss'),
    style: 'danger',
    value: incidentOnlyValue(id),
    confirm: {
      title: plain(`Dismiss incident #${id}?`),
      text: plain('Nothing runs, and Reef stays quiet about it until the target recovers.'),
      confirm: plain('Dismiss'),
      deny: plain('Keep it'),
      style: 'danger',
    },
  };
  const silence = [
    {
      type: 'button' as const,
      action_id: ACTION_IDS.silence1h,
      text: plain('Silence 1h'),
      value: incidentOnlyValue(id),
    },
    {
      type: 'button' as const,
      action_id: ACTION_IDS.silence24h,
      text: plain('Silence 24h'),
      value: incidentOnlyValue(id),
    },
  ];
  switch (incident.state) {
    case 'awaiting-approval':
      if (status.queued) return [dismiss];
      break;
    case 'open':
    case 'diagnosed':
    case 'failed':
    case 'escalated':
      return [dismiss, ...silence];
    case 'silenced':
      return [dismiss];
    default:
      return [];
  }
  const { best, alternatives } = candidatesFor(incident, catalog);
  const elements: (Button | StaticSelect)[] = [];
  if (best) {
    const two = best.approvalsRequired === 2;
    const given = status.approvers?.length ?? 0;
    elements.push({
      type: 'button',
      action_id: ACTION_IDS.approve,
      text: plain(two ? `Approve (${Math.min(given + 1, 2)} of 2)` : 'Approve'),
      style: 'primary',
      value: approveValue(id, best.id),
      ...(best.risk === 'high'
        ? {
            confirm: {
              title: plain(`Run ${best.id}?`),
              text: plain(
                `High-risk runbook on ${incident.check}/${incident.target}: it runs once two approvers agree.`,
              ),
              confirm: plain('Approve'),
              deny: plain('Cancel'),
            },
          }
        : {}),
    });
  }
  const options = [
    ...alternatives.slice(0, LIMITS.selectOptions - 1).map((r) => ({
      text: plain(`Run ${r.id} instead`),
      value: alternativeValue(id, r.id),
      description: plain(`${r.title} (risk ${r.risk})`),
    })),
    { text: plain('Escalate to a human'), value: alternativeValue(id, 'escalate') },
  ];
  elements.push({
    type: 'static_select',
    action_id: ACTION_IDS.alternative,
    placeholder: plain('Alternative…'),
    options,
    confirm: {
      title: plain('Use this instead?'),
      text: plain(
        'The runbook you picked runs instead of the proposed one (its steps: reef plan), or a human takes over.',
      ),
      confirm: plain('Yes'),
      deny: plain('Cancel'),
    },
  });
  elements.push(dismiss, ...silence);
  return elements;
}
