import { ReefError } from '../../errors.js';

/**
 * The Slack settings that come from the environment (tokens are secrets, so never from reef.yaml), read
 * in one pure function so tests inject their own. Which mode Reef runs in follows from what is set:
 * no bot token → the console surface; an app token → Socket Mode (no public URL needed); else HTTP mode
 * with the signing secret.
 */
export type SlackEnv =
  | { mode: 'off' }
  | {
      mode: 'socket' | 'http';
      botToken: string;
      /** Socket Mode only. */
      appToken?: string;
      /** HTTP mode only (Socket Mode requests are not signed). */
      signingSecret?: string;
      /** The Web API base URL, ending in `/`. */
      apiUrl: string;
    };

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

/** Throws `reef_config_invalid` listing every problem with the Slack variables at once. */
export function readSlackEnv(env: NodeJS.ProcessEnv = process.env): SlackEnv {
  const botToken = env.SLACK_BOT_TOKEN?.trim() || undefined;
  if (!botToken) return { mode: 'off' };
  const appToken = env.SLACK_APP_TOKEN?.trim() || undefined;
  const signingSecret = env.SLACK_SIGNING_SECRET?.trim() || undefined;
  const problems: string[] = [];
  if (!botToken.startsWith('xoxb-'))
    problems.push(
      'SLACK_BOT_TOKEN must be the bot token (xoxb-…, Slack app → OAuth & Permissions), not a user or app token',
    );
  if (appToken && !appToken.startsWith('xapp-'))
    problems.push(
      'SLACK_APP_TOKEN must be an app-level token (xapp-…, Slack app → Basic Information → App-Level Tokens, scope connections:write)',
    );
  if (!appToken && !signingSecret)
    problems.push(
      'set SLACK_APP_TOKEN (Socket Mode, no public URL needed) or SLACK_SIGNING_SECRET (HTTP mode, Slack posts to /slack/events)',
    );
  let apiUrl = DEFAULT_SLACK_API_URL;
  const rawUrl = env.SLACK_API_URL?.trim();
  if (rawUrl) {
    try {
      const url = new URL(rawUrl);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
      apiUrl = url.href.endsWith('/') ? url.href : `${url.href}/`;
    } catch {
      problems.push(`SLACK_API_URL "${rawUrl}" is not an http(s) URL (default: ${DEFAULT_SLACK_API_URL})`);
    }
  }
  if (problems.length > 0) {
    throw new ReefError('reef_config_invalid', 'The Slack settings in the environment are incomplete', {
      details: problems,
      hint: 'Fix them in .env (see .env.example), or unset SLACK_BOT_TOKEN to use the console surface.',
    });
  }
  return appToken
    ? { mode: 'socket', botToken, appToken, apiUrl }
    : { mode: 'http', botToken, ...(signingSecret ? { signingSecret } : {}), apiUrl };
}
