import { describe, expect, it } from 'vitest';
import { executionsQueue, runJobId } from '../../../src/execution/queue.js';
import { ACTION_IDS } from '../../../src/surfaces/slack/actions.js';
import { eventually } from '../../helpers/eventually.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { ANA, BEN, EVE, GUS, slackHarness } from './harness.js';

type H = ReturnType<typeof slackHarness>;

async function awaitingMessage(h: H, pod: string) {
  h.crashingPod(pod);
  const incident = await h.sweepUntil(pod, 'awaiting-approval');
  const message = await h.messageOf(incident.id, (m) =>
    JSON.stringify(m.blocks).includes(ACTION_IDS.approve),
  );
  return { incident, message };
}

async function runJobs(h: H): Promise<number> {
  const queue = executionsQueue(h.state.rt.redis.bullConnection(), h.state.rt.prefix);
  try {
    const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
    return jobs.filter((j) => j.data.kind === 'run').length;
  } finally {
    await queue.close();
  }
}

async function refusedActions(h: H, incidentId?: string) {
  return (await h.audit(incidentId)).filter((e) => e.action === 'approval-refused');
}

/** Clicks that must not run anything, each answered and audited. */
describe('Slack approvals: who, what and when', () => {
  const h = slackHarness({ mode: 'http' });

  it('an unauthorised user is told why, audited, and nothing runs', async () => {
    const { incident, message } = await awaitingMessage(h, 'web-6b7-u');
    const click = await h.click(message, ACTION_IDS.approve, EVE);
    expect(click.status).toBe(200);
    expect(String((await h.reply(click.responseUrl)).text)).toMatch(
      /<@UEVE> is not a Reef approver.*slack\.approvers\.users/,
    );
    expect((await h.reply(click.responseUrl)).response_type).toBe('ephemeral');
    const refused = await eventually(
      'the refusal in the audit log',
      async () => (await refusedActions(h, incident.id))[0],
    );
    expect(refused).toMatchObject({
      actor: EVE,
      incidentId: incident.id,
      details: { reason: 'unauthorised' },
    });
    expect(await runJobs(h)).toBe(0);
    expect((await h.state.rt.store.get(incident.id))?.state).toBe('awaiting-approval');
  });

  it('a member of an approver user group may approve (usergroups.users.list)', async () => {
    const { message } = await awaitingMessage(h, 'web-6b7-g');
    const click = await h.click(message, ACTION_IDS.approve, GUS);
    expect(String((await h.reply(click.responseUrl)).text)).toMatch(/queued/);
    expect(h.slack.callsTo('usergroups.users.list')[0]?.args).toMatchObject({ usergroup: 'SOPS' });
  });

  it('a double approval (two approvers at once) creates one execution', async () => {
    const { incident, message } = await awaitingMessage(h, 'web-6b7-d');
    const [a, b] = await Promise.all([
      h.click(message, ACTION_IDS.approve, ANA),
      h.click(message, ACTION_IDS.approve, BEN),
    ]);
    const answers = [
      String((await h.reply(a.responseUrl)).text),
      String((await h.reply(b.responseUrl)).text),
    ];
    expect(answers.filter((t) => /queued/.test(t) && !/already/.test(t))).toHaveLength(1);
    expect(answers.filter((t) => /already approved|not awaiting/.test(t))).toHaveLength(1);
    expect(await runJobs(h)).toBe(1);
    await eventually(
      'the one run to finish',
      async () => (await h.state.rt.store.get(incident.id))?.state === 'resolved',
      15_000,
    );
    expect(h.cluster.server.count({ resource: 'pods/eviction', name: 'web-6b7-d' })).toBe(1);
  });

  it('a stale click (the incident was dismissed meanwhile) is refused and audited', async () => {
    const { incident, message } = await awaitingMessage(h, 'web-6b7-s');
    const dismiss = await h.click(message, ACTION_IDS.dismiss, ANA);
    expect(String((await h.reply(dismiss.responseUrl)).text)).toMatch(/Dismissed #/);
    const late = await h.click(message, ACTION_IDS.approve, BEN);
    expect(String((await h.reply(late.responseUrl)).text)).toMatch(/is dismissed, not awaiting approval/);
    expect(await runJobs(h)).toBe(0);
    expect((await refusedActions(h, incident.id)).map((e) => e.actor)).toContain(BEN);
    const shown = await h.messageOf(incident.id, (m) =>
      JSON.stringify(m.blocks).includes('*Dismissed* by <@UANA>'),
    );
    expect(JSON.stringify(shown.blocks)).not.toContain(ACTION_IDS.approve);
  });

  it('a tampered value (another incident, another runbook) is refused, audited, and runs nothing', async () => {
    const first = await awaitingMessage(h, 'web-6b7-t1');
    const second = await awaitingMessage(h, 'web-6b7-t2');
    // The first message's Approve button, carrying the second incident's id.
    const crossed = await h.click(first.message, ACTION_IDS.approve, ANA, {
      value: JSON.stringify({ i: second.incident.id, r: 'pod-restart' }),
    });
    expect(String((await h.reply(crossed.responseUrl)).text)).toMatch(/not on that incident's message/);
    // The right incident, but a runbook the message never proposed.
    const other = await h.click(first.message, ACTION_IDS.approve, ANA, {
      value: JSON.stringify({ i: first.incident.id, r: 'disk-cleanup' }),
    });
    expect(String((await h.reply(other.responseUrl)).text)).toMatch(/proposes pod-restart/);
    const garbage = await h.click(first.message, ACTION_IDS.approve, ANA, { value: '{"i":"1; rm -rf /"}' });
    expect(String((await h.reply(garbage.responseUrl)).text)).toMatch(/not what Reef puts on its buttons/);
    expect(await runJobs(h)).toBe(0);
    const reasons = (await refusedActions(h)).map((e) => (e.details as { reason?: string }).reason);
    expect(reasons.filter((r) => r === 'tampered')).toHaveLength(2);
    expect(reasons).toContain('unknown-action');
  });

  it('an unknown action id gets an explanation and an audit entry', async () => {
    const { message } = await awaitingMessage(h, 'web-6b7-x');
    const click = await h.click(message, 'reef:reboot-everything', ANA, {
      actionIdOverride: 'reef:reboot-everything',
    });
    expect(click.status).toBe(200);
    expect(String((await h.reply(click.responseUrl)).text)).toMatch(
      /Reef has no button "reef:reboot-everything"/,
    );
    const refused = await eventually('the audit entry', async () => (await refusedActions(h))[0]);
    expect(refused.details).toMatchObject({ reason: 'unknown-action', actionId: 'reef:reboot-everything' });
    expect(await runJobs(h)).toBe(0);
  });

  it('Silence 1h and the escalate option act through the operator and update the message', async () => {
    const { incident, message } = await awaitingMessage(h, 'web-6b7-q');
    const click = await h.click(message, ACTION_IDS.alternative, ANA, { option: '"e":1' });
    expect(String((await h.reply(click.responseUrl)).text)).toMatch(/is yours: nothing will run/);
    await h.messageOf(incident.id, (m) => JSON.stringify(m.blocks).includes('Escalated to a human'));
    const escalated = await h.messageOf(incident.id, (m) =>
      JSON.stringify(m.blocks).includes(ACTION_IDS.silence1h),
    );
    const silence = await h.click(escalated, ACTION_IDS.silence1h, BEN);
    expect(String((await h.reply(silence.responseUrl)).text)).toMatch(/Silenced #/);
    const after = await h.state.rt.store.get(incident.id);
    expect(after?.state).toBe('silenced');
    expect(Date.parse(after!.silencedUntil!) - Date.now()).toBeGreaterThan(59 * 60_000);
  });
});

describe('Slack approvals: two approvers for a high-risk runbook', () => {
  const h = slackHarness({ mode: 'http', risk: 'high' });

  it('the same person cannot approve twice; a second approver queues one run', async () => {
    const { incident, message } = await awaitingMessage(h, 'web-6b7-h');
    const first = await h.click(message, ACTION_IDS.approve, ANA);
    expect(String((await h.reply(first.responseUrl)).text)).toMatch(/1 of 2/);
    const updated = await h.messageOf(incident.id, (m) =>
      JSON.stringify(m.blocks).includes('Approve (2 of 2)'),
    );
    const again = await h.click(updated, ACTION_IDS.approve, ANA);
    expect(String((await h.reply(again.responseUrl)).text)).toMatch(/You already approved/);
    expect(await runJobs(h)).toBe(0);
    const second = await h.click(updated, ACTION_IDS.approve, BEN);
    expect(String((await h.reply(second.responseUrl)).text)).toMatch(/Approved by <@UANA> and <@UBEN>/);
    expect(await runJobs(h)).toBe(1);
    const queue = executionsQueue(h.state.rt.redis.bullConnection(), h.state.rt.prefix);
    expect((await queue.getJob(runJobId(incident.id, 'pod-restart')))?.data).toMatchObject({
      by: 'UANA+UBEN',
    });
    await queue.close();
    const thread = h.slack.inThread(message.ts).map((m) => m.text);
    expect(thread.join('\n')).toMatch(/<@UANA> approved/);
  });
});

describe('Slack approvals: expiry', () => {
  const clock = new FakeClock(new Date().toISOString());
  const h = slackHarness({ mode: 'http', clock });

  it('a click after the approval expired runs nothing and escalates', async () => {
    const { incident, message } = await awaitingMessage(h, 'web-6b7-e');
    clock.advance(31 * 60_000);
    const click = await h.click(message, ACTION_IDS.approve, ANA);
    expect(String((await h.reply(click.responseUrl)).text)).toMatch(/expired/);
    expect(await runJobs(h)).toBe(0);
    expect((await h.state.rt.store.get(incident.id))?.state).toBe('escalated');
    await h.messageOf(incident.id, (m) => JSON.stringify(m.blocks).includes('Escalated to a human'));
  });
});
