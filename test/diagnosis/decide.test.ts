import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createDiagnoser } from '../../src/diagnosis/create.js';
import { rediagnoseWorsened } from '../../src/diagnosis/step.js';
import { decide, decideOpened } from '../../src/execution/decide.js';
import type { Finding } from '../../src/findings/finding.js';
import { ConsoleSurface } from '../../src/surfaces/console.js';
import { diagnosisReply } from '../fixtures/anthropic-api-server.js';
import { eventually } from '../helpers/eventually.js';
import { API_KEY, diagnosisHarness, podFacts } from './harness.js';

describe('the decision with a diagnosis first (real Redis, real runbooks)', () => {
  const h = diagnosisHarness();
  const { state } = h;

  const rules = () =>
    createDiagnoser({
      llm: state.config.llm,
      timezone: 'UTC',
      redis: state.redis,
      prefix: state.prefix,
      clock: state.clock,
      env: {},
    });
  const pod = (name: string, condition: string, facts = {}) =>
    h.finding(
      'pods',
      `apps/${name}`,
      condition,
      'critical',
      podFacts(name, facts),
      `${condition} on ${name}`,
    );
  const decisionWhy = async (incidentId: string) =>
    (await state.audit.read({ incidentId })).filter((e) => e.action === 'decision').map((e) => e.why);

  it('with no ANTHROPIC_API_KEY the rules diagnose and every decision is what it was without a diagnosis', async () => {
    expect(rules().name).toBe('rules');
    const cases: [string, (name: string) => Finding][] = [
      ['OOMKilled (two candidates: the most specific wins)', (n) => pod(n, 'OOMKilled')],
      [
        'CrashLoopBackOff (approve)',
        (n) => pod(n, 'CrashLoopBackOff', { lastTerminationReason: 'Error', exitCode: 1 }),
      ],
      ['unsafe facts (refuse)', (n) => pod(`${n};rm`, 'CrashLoopBackOff')],
      [
        'no runbook (escalate)',
        (n) => h.finding('http', n, 'bad-status', 'critical', { status: 503 }, 'HTTP 503'),
      ],
    ];
    for (const [i, [label, make]] of cases.entries()) {
      const plain = await h.open(make(`plain-${i}`));
      const diagnosed = await h.open(make(`diag-${i}`));
      const without = await decide(plain, h.decideDeps());
      const withRules = await decide(diagnosed, h.decideDeps(rules()));
      expect(withRules, label).toBe(without);
      const [a, b] = [await decisionWhy(plain.id), await decisionWhy(diagnosed.id)];
      expect(
        b.map((w) => w.replaceAll('diag-', '')),
        label,
      ).toEqual(a.map((w) => w.replaceAll('plain-', '')));
      const stored = await state.store.get(diagnosed.id);
      expect(stored!.diagnosis, label).toMatchObject({ diagnoser: 'rules' });
      expect(
        stored!.history.some((e) => e.state === 'diagnosed'),
        label,
      ).toBe(true);
    }
    expect(state.api.requests).toHaveLength(0);
  });

  it('the rules explain an OOM kill with rising restarts, and every event after carries the diagnosis', async () => {
    const incident = await h.open(pod('web-7d9f', 'OOMKilled'));
    expect(await decide(incident, h.decideDeps(rules()))).toBe('suggest');
    const stored = (await state.store.get(incident.id))!;
    expect(stored.state).toBe('diagnosed');
    expect(stored.diagnosis).toMatchObject({
      diagnoser: 'rules',
      recommendedRunbookId: 'oom-watch',
      alternativeRunbookIds: ['pod-restart'],
    });
    expect(stored.diagnosis!.probableCause).toMatch(/memory limit too low or a leak; a restart buys time/i);
    const suggested = (await h.published()).find((e) => e.type === 'suggested')!;
    expect(suggested.incident.diagnosis).toEqual(stored.diagnosis);
  });

  it("Claude's choice among the candidates is the plan: it prefers pod-restart, so Reef asks for it", async () => {
    state.api.reply(diagnosisReply({ runbookId: 'pod-restart', summary: 'Leak: memory grows for hours.' }));
    const incident = await h.open(pod('web-7d9f', 'OOMKilled'));
    expect(await decide(incident, h.decideDeps(h.diagnoser()))).toBe('ask');
    const stored = (await state.store.get(incident.id))!;
    expect(stored).toMatchObject({ state: 'awaiting-approval', proposedRunbookId: 'pod-restart' });
    expect(stored.diagnosis).toMatchObject({ diagnoser: 'anthropic', recommendedRunbookId: 'pod-restart' });
    const asked = (await h.published()).find((e) => e.type === 'awaiting-approval')!;
    expect(asked.incident.diagnosis?.summary).toBe('Leak: memory grows for hours.');
    const out = new PassThrough();
    const text = new ConsoleSurface(out, 'UTC', false).render(asked);
    expect(text).toMatch(/APPROVAL NEEDED/);
    expect(text).toMatch(
      /diagnosis by Claude \(claude-sonnet-5-5\), 80% sure, recommends pod-restart: Leak: memory grows for hours\./,
    );
  });

  it('Claude answering null escalates to a human with the diagnosis as the reason; nothing runs', async () => {
    state.api.reply(diagnosisReply({ runbookId: null, summary: 'The image tag does not exist.' }));
    const incident = await h.open(pod('web-7d9f', 'CrashLoopBackOff'));
    expect(await decide(incident, h.decideDeps(h.diagnoser()))).toBe('escalate');
    const stored = (await state.store.get(incident.id))!;
    expect(stored.state).toBe('escalated');
    expect(stored.diagnosis).toMatchObject({ diagnoser: 'anthropic', recommendedRunbookId: null });
    const escalated = (await h.published()).find((e) => e.type === 'escalated')!;
    expect(escalated.note).toMatch(
      /the diagnosis recommends that a human decides \(The image tag does not exist\.\)/,
    );
    expect(new ConsoleSurface(new PassThrough(), 'UTC', false).render(escalated)).toMatch(
      /ESCALATED[\s\S]*diagnosis by Claude .*recommends a human decides: The image tag does not exist\./,
    );
    expect(await h.runs()).toEqual([]);
  });

  it('one slow LLM answer does not hold up the other decisions of the same sweep', async () => {
    // Whichever request arrives first waits 2 s; the other is answered at once.
    state.api.reply({ kind: 'delay', ms: 2000, reply: diagnosisReply({ runbookId: 'pod-restart' }) });
    const events = await h.ingest(pod('slow-1', 'OOMKilled'), pod('slow-2', 'OOMKilled'));
    const opened = events.filter((e) => e.type === 'opened').map((e) => e.incident);
    expect(opened).toHaveLength(2);
    const deciding = decideOpened(events, h.decideDeps(h.diagnoser()));
    // Both questions are asked while the first is still unanswered (one at a time, the second would
    // only be asked after the first decision), and the quick one is decided meanwhile.
    await eventually('both questions asked', async () => state.api.requests.length === 2);
    const slow = opened.find((i) => state.api.requests[0]!.raw.includes(i.target))!;
    const quick = opened.find((i) => i !== slow)!;
    expect((await state.store.get(slow.id))!.state).toBe('open');
    await eventually('the quick decision', async () => (await state.store.get(quick.id))!.state !== 'open');
    expect((await state.store.get(slow.id))!.state).toBe('open');
    await deciding;
    expect((await state.store.get(slow.id))!.state).not.toBe('open');
  });

  it('an all-green sweep makes zero LLM calls; an opening makes one; a worsening re-diagnoses once', async () => {
    const deps = h.decideDeps(h.diagnoser());
    const afterIngest = async (events: Awaited<ReturnType<typeof h.ingest>>) => {
      await decideOpened(events, deps);
      await rediagnoseWorsened(events, deps);
    };
    const green = Array.from({ length: 30 }, (_, i) => pod(`ok-${i}`, 'ok'));
    for (let sweep = 0; sweep < 3; sweep++)
      await afterIngest(await h.ingest(...green.map((f) => ({ ...f, severity: 'ok' as const }))));
    expect(state.api.requests).toHaveLength(0);

    const cert = (severity: 'warning' | 'critical') =>
      h.finding('certificate', 'api-tls', 'expiring', severity, {
        daysLeft: severity === 'warning' ? 10 : 2,
      });
    await afterIngest(await h.ingest(cert('warning')));
    expect(state.api.requests).toHaveLength(1);
    await afterIngest(await h.ingest(cert('warning')));
    expect(state.api.requests).toHaveLength(1);
    const worse = await h.ingest(cert('critical'));
    expect(worse.map((e) => e.type)).toEqual(['worsened']);
    await afterIngest(worse);
    expect(state.api.requests).toHaveLength(2);
    expect(state.api.requests[1]!.raw).toMatch(/it escalated/);
    const incident = await state.store.currentFor(worse[0]!.incident.fingerprint);
    expect(incident!.diagnosis).toMatchObject({
      diagnoser: 'anthropic',
      recommendedRunbookId: 'certificate-renewal',
    });
  });

  it('ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from the environment select Claude; a bad URL says so and leaves the rules', async () => {
    const fromEnv = (env: NodeJS.ProcessEnv) =>
      createDiagnoser({
        llm: state.config.llm,
        timezone: 'UTC',
        redis: state.redis,
        prefix: state.prefix,
        clock: state.clock,
        env,
      });
    const incident = await h.open(pod('web-7d9f', 'OOMKilled'));
    const claude = fromEnv({ ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: state.api.url });
    expect(claude.name).toBe('anthropic');
    expect(await decide(incident, h.decideDeps(claude))).toBe('suggest');
    expect(state.api.requests).toHaveLength(1);

    const broken = fromEnv({ ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: 'api.anthropic.com' });
    const other = await h.open(pod('web-2', 'OOMKilled'));
    await decide(other, h.decideDeps(broken));
    expect(state.api.requests).toHaveLength(1);
    expect((await state.store.get(other.id))!.diagnosis!.fallbackReason).toMatch(
      /ANTHROPIC_BASE_URL "api\.anthropic\.com" is not an http\(s\) URL; fix it or unset it/,
    );
  });
});
