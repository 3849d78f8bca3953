import { describe, expect, it } from 'vitest';
import { PauseFlag } from '../../../src/guardrails/pause.js';
import { eventually } from '../../helpers/eventually.js';
import { ANA, DIGEST, EVE, slackHarness } from './harness.js';

/** `/reef …` through signed HTTP requests, answered on the response_url. */
describe('/reef', () => {
  const h = slackHarness({ mode: 'http' });
  const text = async (command: string, user = ANA, n = 0) => {
    const sent = await h.command(command, user);
    expect(sent.status).toBe(200);
    const answer = await h.reply(sent.responseUrl, n);
    return { text: String(answer.text), type: answer.response_type, responseUrl: sent.responseUrl };
  };

  it('help, and an unknown sub-command answers with the help text', async () => {
    const help = await text('help');
    expect(help.text).toMatch(/`check \[target\]`/);
    expect(help.type).toBe('ephemeral');
    const unknown = await text('reboot prod');
    expect(unknown.text).toMatch(/^Reef has no command `reboot`\.\n\*Reef\* — `\/reef <command>`/);
    expect((await text('')).text).toMatch(/`status`/);
  });

  it('status, incidents and runbooks report what the CLI would, --public in the channel', async () => {
    h.crashingPod('web-6b7-c');
    const incident = await h.sweepUntil('web-6b7-c', 'awaiting-approval');
    const status = await text('status --public');
    expect(status.type).toBe('in_channel');
    expect(status.text).toMatch(/Workers online: 1/);
    expect(status.text).toMatch(/Last sweep: .* 1 probed/);
    expect(status.text).toMatch(
      /LLM spend today: \$0\.00 today \(0 calls\), \$0\.00 of \$\d+\.00 this month; rule-based diagnosis only/,
    );
    expect(status.text).toMatch(/Schedule `sweep`|Schedules: none/);
    expect(status.text).toContain(
      `*#${incident.id}* pods/apps/web-6b7-c CrashLoopBackOff — _awaiting-approval_`,
    );
    expect((await text('incidents')).text).toMatch(/^\*Open incidents: 1\*/);
    expect((await text('runbooks')).text).toMatch(
      /`pod-restart` — Restart a crash-looping or OOM-killed pod \(mode approve, risk low\) matches pods CrashLoopBackOff\|OOMKilled/,
    );
  });

  it('check sweeps through the worker and answers twice: queued, then done', async () => {
    const sent = await h.command('check lab', ANA);
    expect(String((await h.reply(sent.responseUrl, 0)).text)).toMatch(/Sweep of `lab` queued/);
    expect(String((await h.reply(sent.responseUrl, 1)).text)).toMatch(
      /\*Sweep of `lab` done\* in \d+ ms: 1 probed/,
    );
    const none = await h.command('check no-such-target', ANA);
    expect(String((await h.reply(none.responseUrl, 1)).text)).toMatch(
      /No configured target is named `no-such-target`/,
    );
  });

  it('silence by target, pause and resume are for approvers; others are refused and audited', async () => {
    h.crashingPod('web-6b7-q');
    const incident = await h.sweepUntil('web-6b7-q', 'awaiting-approval');
    expect((await text('silence apps/web-6b7-q 1h', EVE)).text).toMatch(
      /`\/reef silence` is for approvers\. <@UEVE> is not a Reef approver/,
    );
    expect((await text('pause', EVE)).text).toMatch(/is for approvers/);
    expect(await new PauseFlag(h.state.rt.connection, h.state.rt.prefix).isPaused()).toMatchObject({
      paused: false,
    });
    expect((await text('silence apps/web-6b7-q soon')).text).toMatch(/^Usage: `\/reef silence/);
    expect((await text('silence apps/web-6b7-q 1h')).text).toMatch(
      new RegExp(`Silenced #${incident.id} until`),
    );
    expect((await h.state.rt.store.get(incident.id))?.state).toBe('silenced');
    expect((await text('pause maintenance window')).text).toMatch(/Reef paused by <@UANA>/);
    expect(await new PauseFlag(h.state.rt.connection, h.state.rt.prefix).isPaused()).toMatchObject({
      paused: true,
      by: ANA,
      reason: 'maintenance window',
    });
    expect((await text('resume')).text).toMatch(/Reef resumed by <@UANA>/);
    const audit = (await h.audit()).map((e) => `${e.actor}:${e.action}`);
    expect(audit).toEqual(
      expect.arrayContaining([`${EVE}:approval-refused`, `${ANA}:silence`, `${ANA}:pause`, `${ANA}:resume`]),
    );
  });

  it('brainstorm runs the Nightly Brainstorm now; its digest reaches the digest channel with the report', async () => {
    const sent = await h.command('brainstorm', ANA);
    expect(String((await h.reply(sent.responseUrl, 0)).text)).toMatch(/Brainstorm started/);
    const done = String((await h.reply(sent.responseUrl, 1)).text);
    expect(done).toMatch(/^\*Nightly Brainstorm — \d{4}-\d{2}-\d{2}\*/);
    expect(done).toContain(`goes to <#${DIGEST}>`);
    const digest = await eventually('the digest message', async () =>
      h.slack.messages.find((m) => m.channel === DIGEST && !m.threadTs),
    );
    expect(JSON.stringify(digest.blocks)).toContain('Nightly Brainstorm');
    const upload = await eventually('the report upload', async () =>
      h.slack.uploads.find((u) => u.completed),
    );
    expect(upload.content).toMatch(/^# /);
    expect(upload.completed).toMatchObject({ channel_id: DIGEST, thread_ts: digest.ts });
  });
});
