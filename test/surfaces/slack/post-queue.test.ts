import { webApi } from '@slack/bolt';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isReefError } from '../../../src/errors.js';
import { mrkdwn } from '../../../src/surfaces/slack/blocks.js';
import { PostQueue, type RetryInfo } from '../../../src/surfaces/slack/post-queue.js';
import { SlackPoster } from '../../../src/surfaces/slack/slack-poster.js';
import { BOT_TOKEN, type SlackApiServer, startSlackApiServer } from '../../fixtures/slack-api-server.js';

/** The posting queue and poster against the Slack stand-in, with the real Web API client. */
describe('posting to Slack reliably', () => {
  let slack: SlackApiServer;
  const retries: RetryInfo[] = [];
  const make = (options: { minIntervalMs?: number } = {}) => {
    const queue = new PostQueue({
      minIntervalMs: options.minIntervalMs ?? 0,
      baseBackoffMs: 20,
      onRetry: (r) => retries.push(r),
    });
    const client = new webApi.WebClient(BOT_TOKEN, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    return { queue, poster: new SlackPoster(client, queue, pino({ level: 'silent' })) };
  };

  beforeAll(async () => {
    slack = await startSlackApiServer();
  });
  afterAll(async () => {
    await slack.close();
  });
  beforeEach(() => {
    slack.calls.length = 0;
    slack.messages.length = 0;
    retries.length = 0;
  });

  it('429 with Retry-After, then 200: waits as told and the message arrives once', async () => {
    const { poster } = make();
    slack.fail('chat.postMessage', { status: 429, retryAfter: 1 });
    await poster.post('CALERTS', { text: 'disk full on web-1' });
    const calls = slack.callsTo('chat.postMessage');
    expect(calls.map((c) => c.answer)).toEqual(['429', 'ok']);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
    expect(slack.messages.map((m) => m.text)).toEqual(['disk full on web-1']);
    expect(retries[0]).toMatchObject({ channel: 'CALERTS', waitMs: 1000 });
  });

  it('5xx and ok:false internal_error are retried with backoff; nothing is lost', async () => {
    const { poster } = make();
    slack.fail('chat.postMessage', { status: 500 }, { status: 503 }, { error: 'internal_error' });
    await poster.post('CALERTS', { text: 'cert expires in 2 days' });
    expect(slack.callsTo('chat.postMessage').map((c) => c.answer)).toEqual([
      '500',
      '503',
      'internal_error',
      'ok',
    ]);
    expect(slack.messages).toHaveLength(1);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);
  });

  it('keeps order per channel through a 429, and paces new messages per channel', async () => {
    const { poster } = make({ minIntervalMs: 150 });
    const first = await poster.post('CALERTS', { text: 'incident 1' });
    slack.fail('chat.update', { status: 429, retryAfter: 0 });
    await Promise.all([
      poster.update(first, { text: 'incident 1: approved' }),
      poster.post('CALERTS', { text: 'incident 1: step 1' }, first.ts),
      poster.post('CALERTS', { text: 'incident 1: step 2' }, first.ts),
      poster.post('COTHER', { text: 'another channel is not held back' }),
    ]);
    const alerts = slack.calls.filter((c) => c.args.channel === 'CALERTS' && c.answer === 'ok');
    expect(alerts.map((c) => `${c.method} ${String(c.args.text)}`)).toEqual([
      'chat.postMessage incident 1',
      'chat.update incident 1: approved',
      'chat.postMessage incident 1: step 1',
      'chat.postMessage incident 1: step 2',
    ]);
    const posts = alerts.filter((c) => c.method === 'chat.postMessage').map((c) => c.at);
    // Sent 150 ms apart; timed on arrival, so allow for scheduling jitter on a busy machine.
    for (let i = 1; i < posts.length; i++) expect(posts[i]! - posts[i - 1]!).toBeGreaterThanOrEqual(100);
    expect(posts.at(-1)! - posts[0]!).toBeGreaterThanOrEqual(270);
    const other = slack.calls.find((c) => c.args.channel === 'COTHER')!;
    expect(other.at).toBeLessThan(posts[2]!);
  });

  it('blocks Slack refuses still reach a human as text; not_in_channel joins first', async () => {
    const { poster } = make();
    slack.fail('chat.postMessage', { error: 'invalid_blocks' });
    await poster.post('CALERTS', {
      text: 'pods/web crash-looping',
      blocks: [{ type: 'section', text: mrkdwn('*pods/web*') }],
    });
    expect(slack.messages[0]).toMatchObject({
      text: expect.stringMatching(
        /^pods\/web crash-looping\n_\(the formatted message was refused by Slack: invalid_blocks\)_/,
      ),
    });
    expect(slack.messages[0]!.blocks).toBeUndefined();

    slack.notJoined.add('CNEW');
    await poster.post('CNEW', { text: 'hello' });
    expect(slack.calls.map((c) => `${c.method}:${c.answer}`).slice(-3)).toEqual([
      'chat.postMessage:not_in_channel',
      'conversations.join:ok',
      'chat.postMessage:ok',
    ]);
  });

  it('a channel that does not exist is an error saying what to fix, not an endless retry', async () => {
    const { poster } = make();
    const error = await poster.post('#', { text: 'x' }).catch((e: unknown) => e);
    expect(isReefError(error) && error.code).toBe('reef_slack_api');
    expect(isReefError(error) && error.describe()).toMatch(/not found[\s\S]*hint: Check slack\.channels/);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('redacts secrets from every text before it leaves', async () => {
    const { poster } = make();
    await poster.post('CALERTS', {
      text: 'leaked xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx in a log line',
      blocks: [{ type: 'section', text: mrkdwn('aws AKIAZ7Q3L5N2R4T6V8X1') }],
    });
    const sent = JSON.stringify(slack.callsTo('chat.postMessage')[0]!.args);
    expect(sent).not.toMatch(/xoxb-1234|AKIAZ7Q3/);
    expect(sent).toContain('[REDACTED:slack-token]');
    expect(sent).toContain('[REDACTED:aws-access-key]');
  });
});
