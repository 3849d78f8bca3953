import { redactText } from '../../secrets/redact.js';

/**
 * The Block Kit subset Reef posts, and the one pass every message goes through before it leaves:
 * secrets redacted from every text, then every text, list and message cut to Slack's limits with a
 * visible note. Slack rejects a whole message (`invalid_blocks`) for one text over its limit; a cut
 * message with a note is always better than no message at 3 AM.
 */

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
export interface Mrkdwn {
  type: 'mrkdwn';
  text: string;
}
export type TextObject = PlainText | Mrkdwn;

export interface Confirm {
  title: PlainText;
  text: TextObject;
  confirm: PlainText;
  deny: PlainText;
  style?: 'primary' | 'danger';
}
export interface Button {
  type: 'button';
  action_id: string;
  text: PlainText;
  value?: string;
  style?: 'primary' | 'danger';
  confirm?: Confirm;
}
export interface SelectOption {
  text: PlainText;
  value: string;
  description?: PlainText;
}
export interface StaticSelect {
  type: 'static_select';
  action_id: string;
  placeholder: PlainText;
  options: SelectOption[];
  confirm?: Confirm;
}

export type Block =
  | { type: 'header'; text: PlainText; block_id?: string }
  | { type: 'section'; text?: TextObject; fields?: TextObject[]; block_id?: string }
  | { type: 'context'; elements: TextObject[]; block_id?: string }
  | { type: 'actions'; elements: (Button | StaticSelect)[]; block_id?: string }
  | { type: 'divider'; block_id?: string };

export interface SlackMessage {
  /** The notification and screen-reader text; also what clients without blocks show. */
  text: string;
  blocks?: Block[];
}

/** Slack's documented Block Kit limits (characters, items). */
export const LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 2000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
  placeholder: 150,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Slack truncates longer top-level texts; a notification never needs more. */
  messageText: 3000,
} as const;

export const CUT_NOTE = '… (cut to fit Slack)';

export function mrkdwn(text: string): Mrkdwn {
  return { type: 'mrkdwn', text };
}
export function plain(text: string): PlainText {
  return { type: 'plain_text', text, emoji: true };
}

/** `text` cut to `max` characters, ending with `note` when cut (the note counts towards `max`). */
export function clip(text: string, max: number, note: string = CUT_NOTE): string {
  if (text.length <= max) return text;
  if (note.length >= max) return text.slice(0, max);
  // Never cut a surrogate pair in half: Slack rejects the broken character.
  let end = max - note.length;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return text.slice(0, end) + note;
}

/**
 * A time as Slack shows it to each reader, in their own time zone (`<!date^…>`); the fallback, for
 * clients that cannot, is UTC.
 */
export function slackDate(at: Date | string): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  const fallback = `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

/** Escapes the three characters Slack's mrkdwn treats as markup (`&`, `<`, `>`) in untrusted text. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function fitText<T extends TextObject>(text: T, max: number, note?: string): T {
  const redacted = redactText(text.text);
  return { ...text, text: clip(redacted.length === 0 ? ' ' : redacted, max, note) };
}

function fitConfirm(c: Confirm): Confirm {
  return {
    ...c,
    title: fitText(c.title, LIMITS.confirmTitle),
    text: fitText(c.text, LIMITS.confirmText),
    confirm: fitText(c.confirm, LIMITS.confirmButton),
    deny: fitText(c.deny, LIMITS.confirmButton),
  };
}

function fitElement(element: Button | StaticSelect): Button | StaticSelect {
  if (element.type === 'button') {
    return {
      ...element,
      text: fitText(element.text, LIMITS.buttonText, '…'),
      ...(element.confirm ? { confirm: fitConfirm(element.confirm) } : {}),
    };
  }
  return {
    ...element,
    placeholder: fitText(element.placeholder, LIMITS.placeholder, '…'),
    options: element.options.slice(0, LIMITS.selectOptions).map((o) => ({
      ...o,
      text: fitText(o.text, LIMITS.optionText, '…'),
      ...(o.description ? { description: fitText(o.description, LIMITS.optionText, '…') } : {}),
    })),
    ...(element.confirm ? { confirm: fitConfirm(element.confirm) } : {}),
  };
}

function fitBlock(block: Block): Block {
  switch (block.type) {
    case 'header':
      return { ...block, text: fitText(block.text, LIMITS.headerText, '…') };
    case 'section': {
      const fields = block.fields?.slice(0, LIMITS.sectionFields).map((f) => fitText(f, LIMITS.fieldText));
      return {
        ...block,
        ...(block.text ? { text: fitText(block.text, LIMITS.sectionText) } : {}),
        ...(fields ? { fields } : {}),
      };
    }
    case 'context':
      return {
        ...block,
        elements: block.elements.slice(0, LIMITS.contextElements).map((e) => fitText(e, LIMITS.contextText)),
      };
    case 'actions':
      return { ...block, elements: block.elements.slice(0, LIMITS.actionsElements).map(fitElement) };
    case 'divider':
      return block;
  }
}

/**
 * The message as it may be sent: every text redacted and within its limit, at most 50 blocks. When
 * blocks must go, the middle ones go (the last `keepTail` blocks, the buttons and status line, stay),
 * replaced by a note saying how many were left out.
 */
export function prepareMessage(message: SlackMessage, keepTail = 2): SlackMessage {
  const text = clip(redactText(message.text) || ' ', LIMITS.messageText);
  if (!message.blocks) return { text };
  let blocks = message.blocks;
  if (blocks.length > LIMITS.blocks) {
    const tail = Math.min(keepTail, LIMITS.blocks - 2);
    const head = LIMITS.blocks - 1 - tail;
    const dropped = blocks.length - head - tail;
    blocks = [
      ...blocks.slice(0, head),
      {
        type: 'context',
        elements: [
          mrkdwn(`_${dropped} more block${dropped === 1 ? '' : 's'} left out: Slack shows at most 50._`),
        ],
      },
      ...blocks.slice(blocks.length - tail),
    ];
  }
  return { text, blocks: blocks.map(fitBlock) };
}
