import { describe, expect, it } from 'vitest';
import { ACTION_IDS } from '../../../src/surfaces/slack/actions.js';
import { eventually } from '../../helpers/eventually.js';
import { ANA, DIGEST, slackHarness } from './harness.js';

/**
 * Bolt's real SocketModeReceiver: apps.connections.open (app token) on the stand-in hands out a
 * ws://127.0.0.1 URL, the stand-in's WebSocket server says hello and sends envelopes, Reef acks them.
 */
describe('Slack surface, Socket Mode', () => {
  const h = slackHarness({ mode: 'socket' });

  it('connects with the app token and acks a slash command envelope before answering', async () => {
    const open = h.slack.callsTo('apps.connections.open');
    expect(open.map((c) => c.answer)).toEqual(['ok']);
    expect(h.slack.callsTo('auth.test')[0]?.answer).toBe('ok');
    const sent = await h.command('help', ANA);
    expect(sent.ms).toBeLessThan(3000);
    expect(String((await h.reply(sent.responseUrl)).text)).toMatch(/`\/reef <command>`/);
  });

  it('an Approve click over the socket queues the run and the runbook runs', async () => {
    h.crashingPod('web-6b7-w');
    const incident = await h.sweepUntil('web-6b7-w', 'awaiting-approval');
    const message = await h.messageOf(incident.id, (m) =>
      JSON.stringify(m.blocks).includes(ACTION_IDS.approve),
    );
    const click = await h.click(message, ACTION_IDS.approve, ANA);
    expect(String((await h.reply(click.responseUrl)).text)).toMatch(/queued/);
    await eventually(
      'the eviction',
      async () => h.cluster.server.count({ resource: 'pods/eviction', name: 'web-6b7-w' }) === 1,
    );
    await h.messageOf(incident.id, (m) => /Running|Verifying|Resolved/.test(JSON.stringify(m.blocks)));
  });

  it('posts the morning digest with the report uploaded in its thread (getUploadURLExternal flow)', async () => {
    await h.state.bot.surface.postDigest({
      title: 'Nightly Brainstorm — 2026-11-28',
      summary: '3 incidents, 1 fixed by pod-restart; disk /var on web-1 full in ~9 days.',
      markdown:
        '# Nightly Brainstorm\n\n- web-1 /var: 86% (+2%/day)\n- token seen in a log: ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\n',
      path: 'memory/brainstorm/2026-11-28.md',
    });
    const digest = h.slack.messages.find((m) => m.channel === DIGEST && !m.threadTs)!;
    expect(JSON.stringify(digest.blocks)).toContain('Nightly Brainstorm — 2026-11-28');
    expect(h.slack.callsTo('files.getUploadURLExternal')[0]?.args).toMatchObject({
      filename: '2026-11-28.md',
    });
    const upload = h.slack.uploads.at(-1)!;
    expect(upload.content).toContain('web-1 /var: 86%');
    expect(upload.content).not.toContain('ghp_');
    expect(upload.completed).toMatchObject({ channel_id: DIGEST, thread_ts: digest.ts });
  });
});
