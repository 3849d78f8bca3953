import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { errorMessage, ReefError } from '../../errors.js';
import { redactText } from '../../secrets/redact.js';
import { prepareMessage, type SlackMessage } from './blocks.js';
import type { MessageRef } from './message-refs.js';
import type { PostQueue } from './post-queue.js';

type WebClient = webApi.WebClient;

/** Errors that mean the blocks, not the channel, were the problem: the text alone still goes out. */
const BLOCK_ERRORS = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'too_many_attachments',
]);
const AUTH_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
]);

/** The `error` of a Slack `ok: false` answer, if this is one. */
export function platformError(error: unknown): string | undefined {
  const e = error as { code?: unknown; data?: { error?: unknown } } | undefined;
  return e?.code === 'slack_webapi_platform_error' && typeof e.data?.error === 'string'
    ? e.data.error
    : undefined;
}

/**
 * Reef's only way to write to Slack: redacts and fits every message (see `prepareMessage`), sends it
 * through the per-channel queue, and turns what Slack refuses into something that still reaches a
 * human (text without blocks) or an error saying what to fix.
 */
export class SlackPoster {
  constructor(
    private readonly client: WebClient,
    private readonly queue: PostQueue,
    private readonly log: Pick<Logger, 'warn' | 'info'>,
  ) {}

  async post(channel: string, message: SlackMessage, threadTs?: string): Promise<MessageRef> {
    const send = (m: SlackMessage) =>
      this.client.chat.postMessage({
        channel,
        text: m.text,
        ...(m.blocks ? { blocks: m.blocks } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
        unfurl_links: false,
        unfurl_media: false,
      });
    const result = await this.withFallbacks(channel, 'post', message, send);
    if (!result.ts) throw new ReefError('reef_slack_api', `chat.postMessage to ${channel} returned no ts`);
    return { channel: result.channel ?? channel, ts: result.ts };
  }

  async update(ref: MessageRef, message: SlackMessage): Promise<void> {
    await this.withFallbacks(ref.channel, 'update', message, (m) =>
      this.client.chat.update({ channel: ref.channel, ts: ref.ts, text: m.text, blocks: m.blocks ?? [] }),
    );
  }

  /** Uploads a text file (the Brainstorm report) with the files.getUploadURLExternal/completeUploadExternal flow. */
  async uploadText(
    channel: string,
    file: { filename: string; title: string; content: string },
    threadTs?: string,
  ): Promise<void> {
    const content = redactText(file.content);
    const what = { filename: file.filename, title: redactText(file.title), content };
    await this.queue.run(channel, 'post', () =>
      this.client.filesUploadV2(
        threadTs ? { channel_id: channel, thread_ts: threadTs, ...what } : { channel_id: channel, ...what },
      ),
    );
  }

  private async withFallbacks<T>(
    channel: string,
    kind: 'post' | 'update',
    message: SlackMessage,
    send: (m: SlackMessage) => Promise<T>,
  ): Promise<T> {
    const prepared = prepareMessage(message);
    let joined = false;
    let attempt: SlackMessage = prepared;
    for (;;) {
      try {
        return await this.queue.run(channel, kind, () => send(attempt));
      } catch (error) {
        const code = platformError(error);
        if (code && BLOCK_ERRORS.has(code) && attempt.blocks) {
          this.log.warn({ channel, error: code }, 'Slack refused the blocks; sending the text alone');
          attempt = { text: `${prepared.text}\n_(the formatted message was refused by Slack: ${code})_` };
          continue;
        }
        if (code === 'not_in_channel' && !joined) {
          joined = true;
          await this.join(channel);
          continue;
        }
        throw explain(error, channel);
      }
    }
  }

  private async join(channel: string): Promise<void> {
    try {
      await this.client.conversations.join({ channel });
      this.log.info({ channel }, 'joined the channel to post in it');
    } catch (error) {
      throw new ReefError(
        'reef_slack_api',
        `Reef is not in channel ${channel} and cannot join it (${platformError(error) ?? errorMessage(error)})`,
        {
          hint: `Invite the bot: type \`/invite @Reef\` in ${channel} (private channels need an invitation).`,
        },
      );
    }
  }
}

function explain(error: unknown, channel: string): unknown {
  const code = platformError(error);
  if (!code) return error;
  if (code === 'channel_not_found' || code === 'is_archived')
    return new ReefError(
      'reef_slack_api',
      `Slack says channel ${channel} is ${code === 'is_archived' ? 'archived' : 'not found'}`,
      {
        hint: 'Check slack.channels in reef.yaml: use the channel id (channel details → bottom of the About tab), and invite the bot to it.',
      },
    );
  if (AUTH_ERRORS.has(code))
    return new ReefError('reef_slack_api', `Slack refused SLACK_BOT_TOKEN (${code})`, {
      hint: 'Reinstall the app to the workspace and put its Bot User OAuth Token (xoxb-…) in .env.',
    });
  if (code === 'missing_scope')
    return new ReefError('reef_slack_api', `The Slack app lacks a scope it needs to post in ${channel}`, {
      hint: 'Recreate the app from slack/manifest.yaml (or add the scopes it lists) and reinstall it.',
    });
  return new ReefError('reef_slack_api', `Slack refused a call for ${channel}: ${code}`, { cause: error });
}
