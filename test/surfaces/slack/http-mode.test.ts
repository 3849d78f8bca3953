import { describe, expect, it } from 'vitest';
import { executionsQueue, runJobId } from '../../../src/execution/queue.js';
import { ACTION_IDS } from '../../../src/surfaces/slack/actions.js';
import {
  elementOf,
  formBody,
  postSigned,
  signatureHeaders,
  slashCommand,
} from '../../fixtures/slack-payloads.js';
import { eventually } from '../../helpers/eventually.js';
import { ALERTS, ANA, slackHarness } from './harness.js';

/** Bolt's real HTTPReceiver behind Reef's HTTP server, driven by correctly signed requests. */
describe('Slack surface, HTTP mode', () => {
  const h = slackHarness({ mode: 'http' });

  it('posts one Block Kit message per incident, and an approval click runs the runbook once', async () => {
    h.crashingPod('web-6b7-a');
    const incident = await h.sweepUntil('web-6b7-a', 'awaiting-approval');
    const message = await h.messageOf(incident.id, (m) =>
      JSON.stringify(m.blocks).includes(ACTION_IDS.approve),
    );
    expect(message.channel).toBe(ALERTS);
    // The Web API client sent it form-encoded, blocks as a JSON string, which the stand-in parsed.
    const post = h.slack.callsTo('chat.postMessage')[0]!;
    expect(post.contentType).toContain('application/x-www-form-urlencoded');
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain('CrashLoopBackOff');
    expect(blocks).toContain('pod-restart');
    expect(blocks).toContain('POST /api/v1/namespaces/apps/pods/web-6b7-a/eviction');
    expect(elementOf(message, ACTION_IDS.approve).value).toBe(
      JSON.stringify({ i: incident.id, r: 'pod-restart' }),
    );

    const click = await h.click(message, ACTION_IDS.approve, ANA);
    expect(click.status).toBe(200);
    expect(String((await h.reply(click.responseUrl)).text)).toMatch(/queued/);
    const resolved = await eventually(
      'the incident to resolve',
      async () => {
        const now = await h.state.rt.store.get(incident.id);
        return now?.state === 'resolved' ? now : undefined;
      },
      15_000,
    );
    const states = resolved.history.map((e) => e.state);
    expect(states.slice(-4)).toEqual(['awaiting-approval', 'executing', 'verifying', 'resolved']);
    expect(h.cluster.server.count({ resource: 'pods/eviction', name: 'web-6b7-a' })).toBe(1);
    const queue = executionsQueue(h.state.rt.redis.bullConnection(), h.state.rt.prefix);
    expect((await queue.getJob(runJobId(incident.id, 'pod-restart')))?.data).toMatchObject({ by: ANA });
    await queue.close();

    // One message, updated in place; the run's story in its thread.
    const final = await h.messageOf(incident.id, (m) => JSON.stringify(m.blocks).includes('Resolved'));
    expect(h.slack.messages.filter((m) => !m.threadTs)).toHaveLength(1);
    expect(final.updates).toBeGreaterThan(0);
    expect(final.ts).toBe(message.ts);
    expect(JSON.stringify(final.blocks)).not.toContain(ACTION_IDS.approve);
    const thread = await eventually('the thread to tell the story', async () => {
      const t = h.slack.inThread(message.ts).map((m) => m.text);
      return t.some((x) => x.includes('Verified')) ? t : undefined;
    });
    expect(thread.join('\n')).toMatch(/Running runbook pod-restart, approved by <@UANA>/);
    expect(thread.join('\n')).toMatch(/evicted pod apps\/web-6b7-a/);
  });
});

describe('Slack surface, HTTP mode: requests that are not Slack', () => {
  const h = slackHarness({ mode: 'http' });

  const command = (user = ANA) =>
    formBody(slashCommand({ text: 'help', user, responseUrl: h.slack.responseUrl() }));

  it('refuses a wrong signature with 401 and does nothing', async () => {
    const body = command();
    const res = await postSigned(h.state.eventsUrl, body, { secret: 'not-the-signing-secret' });
    expect(res.status).toBe(401);
    const unsigned = await postSigned(h.state.eventsUrl, body, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(unsigned.status).toBe(401);
    const responseUrl = new URLSearchParams(body).get('response_url')!;
    await new Promise((r) => setTimeout(r, 200));
    expect(h.slack.responses(responseUrl)).toEqual([]);
  });

  it('refuses a timestamp older than five minutes, even correctly signed', async () => {
    const body = command();
    const res = await postSigned(h.state.eventsUrl, body, {
      timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    expect(res.status).toBe(401);
    // Within the window it is fine.
    const fresh = await postSigned(h.state.eventsUrl, body, {
      timestamp: Math.floor(Date.now() / 1000) - 4 * 60,
    });
    expect(fresh.status).toBe(200);
  });

  it('refuses a replayed request: the same signed bytes are handled once', async () => {
    const body = command();
    const headers = signatureHeaders(body);
    const first = await postSigned(h.state.eventsUrl, body, { headers });
    const replay = await postSigned(h.state.eventsUrl, body, { headers });
    expect(first.status).toBe(200);
    expect(replay.status).toBe(401);
    const responseUrl = new URLSearchParams(body).get('response_url')!;
    await h.reply(responseUrl);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.slack.responses(responseUrl)).toHaveLength(1);
  });

  it('serves /healthz beside /slack/events and answers GET /slack/events with 405', async () => {
    const base = h.state.eventsUrl.replace('/slack/events', '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(h.state.eventsUrl)).status).toBe(405);
  });
});
