import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import type { Incident } from '../../incidents/incident.js';
import {
  type ActionResult,
  approve,
  dismiss,
  escalateToHuman,
  type OperatorDeps,
  silence,
} from '../../operator/actions.js';
import { candidatesFor } from '../../operator/candidates.js';
import { parseAction, type ReefAction } from './actions.js';
import type { Approvers } from './approvers.js';
import type { MessageRefs } from './message-refs.js';

/** The parts of a Slack `block_actions` payload Reef reads (Bolt's `BlockAction` fits it). */
export interface BlockActionBody {
  user: { id: string };
  actions: readonly {
    action_id: string;
    type: string;
    value?: string;
    selected_option?: { value: string } | null;
  }[];
  container?: { message_ts?: unknown; channel_id?: unknown };
  channel?: { id: string };
  message?: { ts: string };
}

export interface InteractionDeps {
  operator: OperatorDeps;
  approvers: Approvers;
  refs: MessageRefs;
  /** Re-renders an incident's message after a click changed it (the click's answer stays ephemeral). */
  refresh: (incident: Incident) => Promise<unknown>;
  log: Pick<Logger, 'warn' | 'error'>;
}

/** What became of a click, for logs, tests and the benchmark. */
export type ClickOutcome =
  | { status: 'done'; action: ReefAction['kind']; result: ActionResult }
  | { status: 'refused'; reason: 'unknown-action' | 'unauthorised' | 'tampered' | 'stale'; message: string };

/**
 * A button or menu click, after Bolt acked it (Slack's 3-second rule: nothing happens before the ack).
 * In order: the click must be a Reef action with a well-formed value, the clicker an approver, and the
 * value must match the message it came from (its incident, the runbook that message proposed); then
 * the operator action decides whether the act is still valid (state, expiry, two approvers) and audits
 * it. Refusals made here are audited here, as `approval-refused`. The clicker always gets an ephemeral
 * answer saying what happened or why not.
 */
export async function handleClick(
  body: BlockActionBody,
  reply: (text: string) => Promise<void>,
  deps: InteractionDeps,
): Promise<ClickOutcome> {
  const user = body.user.id;
  const element = body.actions[0];
  const actionId = element?.action_id ?? '(none)';
  const value = element?.type === 'static_select' ? element.selected_option?.value : element?.value;
  const parsed = parseAction(actionId, value);
  if (!parsed.ok) {
    return refuse(
      deps,
      reply,
      user,
      'unknown-action',
      `${capitalise(parsed.problem)}. Nothing was done; \`/reef incidents\` lists what is open.`,
      {
        details: { actionId },
      },
    );
  }
  const action = parsed.action;
  const allowed = await deps.approvers.check(user);
  if (!allowed.ok)
    return refuse(deps, reply, user, 'unauthorised', allowed.message, { incidentId: action.incidentId });

  const binding = await checkBinding(body, action, deps);
  if (binding)
    return refuse(deps, reply, user, binding.reason, binding.message, { incidentId: action.incidentId });

  const result = await act(action, user, deps.operator);
  // The operator names people by id; Slack shows `<@U…>` as their name.
  await reply(result.message.replace(/\b([UW][A-Z0-9]{2,})\b/g, '<@$1>'));
  const changed = result.incident ?? (await deps.operator.store.get(action.incidentId));
  if (changed) {
    await deps
      .refresh(changed)
      .catch((error: unknown) =>
        deps.log.warn(
          { err: errorMessage(error), incident: changed.id },
          'could not refresh the incident message',
        ),
      );
  }
  return { status: 'done', action: action.kind, result };
}

function act(action: ReefAction, by: string, operator: OperatorDeps): Promise<ActionResult> {
  const ref = action.incidentId;
  switch (action.kind) {
    case 'approve':
    case 'alternative':
      return approve(operator, { ref, runbookId: action.runbookId, by });
    case 'escalate':
      return escalateToHuman(operator, { ref, by, note: 'chosen from Slack' });
    case 'dismiss':
      return dismiss(operator, { ref, by, reason: 'dismissed from Slack' });
    case 'silence':
      return silence(operator, { ref, by, forMs: action.forMs });
  }
}

/**
 * Whether the click's value belongs to the message it came from: Reef's message for that incident,
 * and, for Approve, the runbook that message proposed. Undefined when it does.
 */
async function checkBinding(
  body: BlockActionBody,
  action: ReefAction,
  deps: InteractionDeps,
): Promise<{ reason: 'tampered' | 'stale'; message: string } | undefined> {
  const ts = typeof body.container?.message_ts === 'string' ? body.container.message_ts : body.message?.ts;
  const channel =
    typeof body.container?.channel_id === 'string' ? body.container.channel_id : body.channel?.id;
  const [ref, owner] = await Promise.all([
    deps.refs.get(action.incidentId),
    ts && channel ? deps.refs.incidentAt(channel, ts) : Promise.resolve(undefined),
  ]);
  if ((owner && owner !== action.incidentId) || (ref && (ref.ts !== ts || ref.channel !== channel))) {
    return {
      reason: 'tampered',
      message: `This button names incident #${action.incidentId}, but it is not on that incident's message${owner ? ` (this message is incident #${owner}'s)` : ''}. Nothing was done.`,
    };
  }
  if (!ref && !owner) {
    return {
      reason: 'stale',
      message: `Reef no longer tracks this message for incident #${action.incidentId}. Nothing was done; \`/reef incidents\` lists what is open.`,
    };
  }
  if (action.kind === 'approve') {
    const incident = await deps.operator.store.get(action.incidentId);
    const best = incident ? candidatesFor(incident, deps.operator.catalog).best : undefined;
    if (incident && best && best.id !== action.runbookId) {
      return {
        reason: 'tampered',
        message: `This Approve button is for runbook ${action.runbookId}, but incident #${action.incidentId}'s message proposes ${best.id}. Nothing was done.`,
      };
    }
  }
  return undefined;
}

async function refuse(
  deps: InteractionDeps,
  reply: (text: string) => Promise<void>,
  user: string,
  reason: 'unknown-action' | 'unauthorised' | 'tampered' | 'stale',
  message: string,
  extra: { incidentId?: string; details?: Record<string, unknown> },
): Promise<ClickOutcome> {
  const incident = extra.incidentId ? await deps.operator.store.get(extra.incidentId) : undefined;
  await deps.operator.audit.record({
    actor: user,
    action: 'approval-refused',
    why: `${reason}: ${message}`,
    ...(extra.incidentId ? { incidentId: extra.incidentId } : {}),
    ...(incident
      ? { fingerprint: incident.fingerprint, target: `${incident.check}/${incident.target}` }
      : {}),
    details: { surface: 'slack', reason, ...extra.details },
  });
  await reply(message);
  return { status: 'refused', reason, message };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
