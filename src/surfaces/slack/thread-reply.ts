import type { IncidentEvent } from '../../events/incident-event.js';
import { formatDuration } from '../../util/duration.js';
import { escapeMrkdwn, type SlackMessage } from './blocks.js';
import { who } from './incident-status.js';

/**
 * What goes in an incident message's thread for an event: the run as it happens (who approved, each
 * step's result, the verification) and the turns the incident takes. The message itself only shows
 * where things stand; the thread keeps the story. Undefined for events the message alone shows.
 */
export function threadReply(event: IncidentEvent): SlackMessage | undefined {
  const note = event.note ? escapeMrkdwn(event.note) : '';
  const i = event.incident;
  switch (event.type) {
    case 'opened':
    case 'awaiting-approval':
      return undefined;
    case 'worsened':
      return { text: `:arrow_up: Worse${note ? `: ${note}` : ''} — ${escapeMrkdwn(i.summary)}` };
    case 'resolved':
      return {
        text: `:white_check_mark: Resolved after ${formatDuration(i.durationMs ?? 0)}${note ? ` (${note})` : ''}`,
      };
    case 'flapping':
      return {
        text: `:repeat: Flapping${note ? `: ${note}` : ''}; Reef stays quiet about it for the flap window.`,
      };
    case 'dismissed':
      return { text: `:no_bell: Dismissed by ${who(event.by)}${note ? `: ${note}` : ''}` };
    case 'silenced':
      return { text: `:zzz: Silenced by ${who(event.by)}${note ? ` (${note})` : ''}` };
    case 'approval-unavailable':
      return { text: `:grey_question: No runbook can be approved${note ? `: ${note}` : ''}` };
    case 'suggested':
      return { text: `:bulb: Suggestion only (the runbook is in mode suggest)${note ? `: ${note}` : ''}` };
    case 'approved':
      return { text: `:ballot_box_with_check: ${who(event.by)} approved${note ? `: ${note}` : ''}` };
    case 'executing':
      return {
        text: `:hammer_and_wrench: Running${note ? ` ${note}` : ''}${event.by && event.by !== 'reef' ? `, approved by ${who(event.by)}` : ' (mode auto)'}`,
      };
    case 'step':
      return { text: `:small_blue_diamond: ${note || 'a step finished'}` };
    case 'verifying':
      return { text: `:mag: ${note || 'the steps ran; verifying'}` };
    case 'verified':
      return { text: `:white_check_mark: Verified${note ? `: ${note}` : ''}` };
    case 'escalated':
      return { text: `:rotating_light: Escalated to a human${note ? `: ${note}` : ''}` };
  }
}
