import type { Writable } from 'node:stream';
import { diagnosisLine } from '../diagnosis/format.js';
import type { IncidentEvent } from '../events/incident-event.js';
import { redactText } from '../secrets/redact.js';
import { formatDuration } from '../util/duration.js';
import { formatClock } from '../util/time.js';
import type { ChatSurface, Digest } from './chat-surface.js';
import { type Colors, colors, factsLine, severityLabel } from './format.js';

/**
 * The surface used when no Slack token is set: incidents, updates and resolutions print to the
 * terminal, and the operator answers with `reef approve|dismiss <id>` from another shell.
 */
export class ConsoleSurface implements ChatSurface {
  readonly name = 'console';
  private readonly c: Colors;

  constructor(
    private readonly out: Writable,
    private readonly timezone: string,
    color = Boolean((out as { isTTY?: boolean }).isTTY),
  ) {
    this.c = colors(color);
  }

  async say(text: string): Promise<void> {
    this.out.write(`${text}\n`);
  }

  /** The Brainstorm digest: its summary, where the report is kept, then the whole report. */
  async postDigest(digest: Digest): Promise<void> {
    const { c } = this;
    const rule = c.dim('─'.repeat(60));
    this.out.write(
      [
        rule,
        c.bold(digest.title),
        digest.summary,
        digest.path
          ? c.dim(`Report in memory: ${digest.path}`)
          : c.yellow('The report is not in memory; it follows in full.'),
        rule,
        digest.markdown.trimEnd(),
        rule,
        '',
      ].join('\n'),
    );
  }

  async notify(event: IncidentEvent): Promise<void> {
    // Facts and summaries come from the watched systems: nothing credential-shaped reaches the terminal.
    this.out.write(`${redactText(this.render(event))}\n`);
  }

  render(event: IncidentEvent): string {
    const { c } = this;
    const i = event.incident;
    const when = c.dim(`[${formatClock(event.at, this.timezone)}]`);
    const what = `#${i.id} ${i.check}/${i.target}`;
    switch (event.type) {
      case 'opened':
        return [
          `${when} ${severityLabel(i.severity, c)} ${c.bold(what)} ${i.condition}: ${i.summary}`,
          `           ${c.dim(factsLine(i.facts))}`,
          `           ${c.cyan(`→ reef approve ${i.id}`)}  ${c.cyan(`reef dismiss ${i.id}`)}`,
        ].join('\n');
      case 'worsened':
        return `${when} ${severityLabel(i.severity, c)} ${c.bold(what)} worse (${event.note ?? ''}): ${i.summary}`;
      case 'resolved':
        return `${when} ${c.green(c.bold('RESOLVED'))} ${what} ${i.condition} after ${formatDuration(i.durationMs ?? 0)}${event.note ? ` (${event.note})` : ''}`;
      case 'flapping':
        return `${when} ${c.yellow(c.bold('FLAPPING'))} ${what} ${i.condition}: ${event.note ?? ''} — last: ${i.summary}`;
      case 'dismissed':
        return `${when} ${c.dim('DISMISSED')} ${what} by ${event.by ?? 'someone'}${event.note ? `: ${event.note}` : ''}`;
      case 'approval-unavailable':
        return `${when} ${c.dim('NO RUNBOOK')} ${what}: ${event.note ?? 'no runbook matches this incident'}`;
      case 'awaiting-approval':
        return [
          `${when} ${c.yellow(c.bold('APPROVAL NEEDED'))} ${what} ${i.condition}: ${event.note ?? ''}`,
          ...(i.diagnosis ? [`           ${c.dim(diagnosisLine(i.diagnosis))}`] : []),
          `           ${c.cyan(`→ reef approve ${i.id}`)}  ${c.cyan(`reef plan ${i.id}`)}  ${c.cyan(`reef dismiss ${i.id}`)}`,
        ].join('\n');
      case 'suggested':
        return `${when} ${c.dim('SUGGESTION')} ${what}: ${event.note ?? ''}`;
      case 'approved':
        return `${when} ${c.yellow('APPROVED')} ${what} by ${event.by ?? 'someone'}: ${event.note ?? ''}`;
      case 'silenced':
        return `${when} ${c.dim('SILENCED')} ${what} by ${event.by ?? 'someone'}${i.silencedUntil ? ` until ${formatClock(i.silencedUntil, this.timezone)}` : ''}${event.note ? `: ${event.note}` : ''}`;
      case 'executing':
        return `${when} ${c.cyan(c.bold('RUNNING'))} ${what}${event.by ? ` (asked by ${event.by})` : ''}: ${event.note ?? ''}`;
      case 'step':
        return `${when}   ${c.dim('step')} ${what}: ${event.note ?? ''}`;
      case 'verifying':
        return `${when} ${c.dim('VERIFYING')} ${what}: ${event.note ?? ''}`;
      case 'verified':
        return `${when} ${c.green(c.bold('VERIFIED'))} ${what}: ${event.note ?? ''}`;
      case 'escalated':
        return `${when} ${c.red(c.bold('ESCALATED'))} ${what} ${i.condition}: ${event.note ?? 'a human decides'}${i.diagnosis ? `\n           ${c.dim(diagnosisLine(i.diagnosis))}` : ''}`;
    }
  }
}
