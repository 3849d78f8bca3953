import { App, HTTPReceiver, type RespondFn } from '@slack/bolt';
import type { Logger } from 'pino';
import { errorMessage, ReefError } from '../../errors.js';
import { AfterAck } from './after-ack.js';
import { prepareMessage } from './blocks.js';
import { boltLogger } from './bolt-logger.js';
import type { BlockActionBody } from './interactions.js';
import type { SlackEnv } from './slack-env.js';
import { SLACK_EVENTS_PATH } from './slack-http.js';
import { platformError } from './slack-poster.js';

export type ActiveSlackEnv = Extract<SlackEnv, { mode: 'socket' | 'http' }>;
export type Reply = (text: string, options?: { public?: boolean }) => Promise<void>;

export interface SlackAppHandlers {
  onClick(body: BlockActionBody, reply: Reply): Promise<unknown>;
  onCommand(command: { text: string; user_id: string }, reply: Reply): Promise<unknown>;
}

export interface SlackApp {
  mode: 'socket' | 'http';
  /** HTTP mode: Bolt's request listener for `/slack/events` (behind the signature and replay guard). */
  requestListener?: HTTPReceiver['requestListener'];
  stop(): Promise<void>;
}

/**
 * The Bolt app in the mode the environment asks for: Socket Mode with SLACK_APP_TOKEN (Bolt's
 * SocketModeReceiver connects out, no public URL needed), else HTTP with SLACK_SIGNING_SECRET (Bolt's
 * HTTPReceiver, mounted on Reef's own server). Both route the same two things: clicks on Reef's
 * buttons and `/reef`; each listener acks first, then works, then answers through the response_url.
 */
export async function createSlackApp(
  env: ActiveSlackEnv,
  handlers: SlackAppHandlers,
  log: Logger,
): Promise<SlackApp> {
  const logger = boltLogger(log);
  const clientOptions = {
    slackApiUrl: env.apiUrl,
    timeout: 15_000,
    retryConfig: { retries: 2, factor: 2, minTimeout: 300, maxTimeout: 3000 },
  };
  const common = {
    token: env.botToken,
    logger,
    clientOptions,
    deferInitialization: true,
    convoStore: false as const,
  };
  let receiver: HTTPReceiver | undefined;
  let app: App;
  if (env.mode === 'socket') {
    app = new App({ ...common, socketMode: true, appToken: env.appToken });
  } else {
    receiver = new HTTPReceiver({
      signingSecret: env.signingSecret ?? '',
      endpoints: SLACK_EVENTS_PATH,
      logger,
      processBeforeResponse: false,
    });
    app = new App({ ...common, receiver });
  }

  // Each listener acks first; the work follows, a few requests at a time (see AfterAck).
  const afterAck = new AfterAck();
  app.action({ type: 'block_actions' }, async ({ ack, body, respond }) => {
    await ack();
    const reply = replier(respond);
    try {
      await afterAck.run(() => handlers.onClick(body as unknown as BlockActionBody, reply));
    } catch (error) {
      log.error({ err: errorMessage(error) }, 'a Slack click failed');
      await reply(
        `:x: Reef could not handle that click: ${errorMessage(error)}. Nothing was done; try again.`,
      ).catch(() => {});
    }
  });
  app.command('/reef', async ({ ack, command, respond }) => {
    await ack();
    const reply = replier(respond);
    try {
      await afterAck.run(() => handlers.onCommand(command, reply));
    } catch (error) {
      log.error({ err: errorMessage(error) }, 'a /reef command failed');
      await reply(`:x: Reef could not run that command: ${errorMessage(error)}`).catch(() => {});
    }
  });
  app.error(async (error) => {
    log.error({ err: errorMessage(error) }, 'Slack app error');
  });

  try {
    // auth.test: a wrong or revoked token fails here, at start-up, not at the first incident.
    await app.init();
    if (env.mode === 'socket') await app.start();
  } catch (error) {
    await app.stop().catch(() => {});
    const code = platformError(error);
    throw new ReefError(
      'reef_slack_api',
      `Cannot connect to Slack at ${env.apiUrl}: ${code ?? errorMessage(error)}`,
      {
        hint:
          code === 'invalid_auth' || code === 'not_authed'
            ? `Slack refused the ${env.mode === 'socket' && code === 'invalid_auth' ? 'bot or app' : 'bot'} token: copy SLACK_BOT_TOKEN (xoxb-…)${env.mode === 'socket' ? ' and SLACK_APP_TOKEN (xapp-…, scope connections:write)' : ''} again from the app's settings.`
            : 'Check the network, SLACK_API_URL, and that the app is installed (see "Slack" in the README).',
        cause: error,
      },
    );
  }
  return {
    mode: env.mode,
    ...(receiver ? { requestListener: receiver.requestListener } : {}),
    async stop() {
      if (env.mode === 'socket') await app.stop();
    },
  };
}

/** Answers through the response_url: ephemeral unless asked, never replacing the message clicked. */
function replier(respond: RespondFn): Reply {
  return async (text, options) => {
    const { text: safe } = prepareMessage({ text });
    await respond({
      response_type: options?.public ? 'in_channel' : 'ephemeral',
      replace_original: false,
      text: safe,
    });
  };
}
