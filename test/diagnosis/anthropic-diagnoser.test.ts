import { describe, expect, it } from 'vitest';
import type { DiagnosisContext } from '../../src/diagnosis/diagnoser.js';
import type { Incident } from '../../src/incidents/incident.js';
import { diagnosisReply } from '../fixtures/anthropic-api-server.js';
import { API_KEY, diagnosisHarness, podFacts } from './harness.js';

describe('Anthropic diagnoser against a local Messages API (real SDK, real Redis)', () => {
  const h = diagnosisHarness();
  const { state } = h;

  const context = (
    incident: Incident,
    trigger: DiagnosisContext['trigger'] = 'opened',
  ): DiagnosisContext => ({
    incident,
    candidates: state.catalog.match(incident),
    trigger,
    events: ['Warning BackOff pod/web-7d9f Back-off restarting failed container app'],
    logLines: ['2026-11-28T09:59:58Z level=error msg="allocation failed" heap=1.9GiB'],
    pastIncidents: [],
  });
  const oom = (pod = 'web-7d9f') =>
    h.open(
      h.finding('pods', `apps/${pod}`, 'OOMKilled', 'critical', podFacts(pod), `container app was OOMKilled`),
    );

  it('happy path: one forced tool call with the candidates as an enum; the answer, its tokens and cost are kept', async () => {
    const incident = await oom();
    state.api.reply(
      diagnosisReply({ runbookId: 'oom-watch', confidence: 0.72, summary: 'A one-off spike.' }),
    );
    const diagnosis = await h.diagnoser().diagnose(context(incident));

    expect(state.api.requests).toHaveLength(1);
    const request = state.api.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/messages');
    expect(request.headers.authorization ?? request.headers['x-api-key']).toContain(API_KEY);
    expect(request.headers['anthropic-version']).toBeTruthy();
    expect(request.body!.model).toBe('claude-sonnet-5-5');
    expect(request.body!.tool_choice).toMatchObject({ type: 'tool', name: 'submit_diagnosis' });
    const schema = request.body!.tools![0]!.input_schema as {
      properties: { recommendedRunbookId: { enum: unknown[] } };
      additionalProperties: boolean;
    };
    expect(schema.properties.recommendedRunbookId.enum).toEqual(['oom-watch', 'pod-restart', null]);
    expect(schema.additionalProperties).toBe(false);

    expect(diagnosis).toMatchObject({
      diagnoser: 'anthropic',
      model: 'claude-sonnet-5-5',
      summary: 'A one-off spike.',
      confidence: 0.72,
      recommendedRunbookId: 'oom-watch',
      alternativeRunbookIds: ['pod-restart'],
    });
    expect(diagnosis.fallbackReason).toBeUndefined();
    const inputTokens = diagnosis.usage!.inputTokens;
    const outputTokens = diagnosis.usage!.outputTokens;
    expect(inputTokens).toBeGreaterThan(100);
    // $3 / $15 per million tokens (the default price table).
    const expected = (inputTokens * 3 + outputTokens * 15) / 1e6;
    expect(diagnosis.usage!.costUsd).toBeCloseTo(expected, 9);
    const ledger = h.ledger();
    expect(await ledger.forIncident(incident.id)).toMatchObject({ calls: 1, inputTokens, outputTokens });
    const spent = await ledger.spent(state.clock.now());
    expect(spent.today).toMatchObject({ calls: 1, inputTokens, outputTokens, failures: 0 });
    expect(spent.month.costUsd).toBeCloseTo(expected, 9);
  });

  const fallbacks: [string, Parameters<typeof state.api.reply>[0], RegExp][] = [
    [
      'no tool call (text only)',
      { kind: 'text', text: 'I think you should restart it.' },
      /without the submit_diagnosis tool call/,
    ],
    [
      'an unknown runbook id',
      diagnosisReply({ runbookId: 'delete-namespace' }),
      /recommendedRunbookId: must be one of the candidate runbook ids \(oom-watch, pod-restart\)/,
    ],
    [
      'malformed tool input (wrong types, missing fields)',
      { kind: 'tool', input: { summary: 'x', confidence: 'very', recommendedRunbookId: 'pod-restart' } },
      /answer is invalid/,
    ],
    [
      'extra fields the schema forbids (a command to run)',
      {
        kind: 'tool',
        input: {
          summary: 'Restart it.',
          probableCause: 'leak',
          confidence: 0.9,
          recommendedRunbookId: 'pod-restart',
          alternativeRunbookIds: [],
          command: 'kubectl delete namespace apps',
        },
      },
      /answer is invalid/,
    ],
    [
      'a tool with another name',
      { kind: 'tool', name: 'run_shell', input: { cmd: 'rm -rf /' } },
      /unknown tool "run_shell"/,
    ],
    [
      'a body that is not JSON',
      { kind: 'malformed', status: 200, body: '{"type":"message", "content": [' },
      /LLM answer not used/,
    ],
    [
      '500',
      { kind: 'error', status: 500, type: 'api_error', message: 'Internal server error' },
      /failed \(500/,
    ],
    [
      '429 rate limit',
      { kind: 'error', status: 429, type: 'rate_limit_error', message: 'slow down', retryAfterSeconds: 30 },
      /rate limited/,
    ],
    [
      '529 overloaded',
      { kind: 'error', status: 529, type: 'overloaded_error', message: 'Overloaded' },
      /overloaded \(529/,
    ],
  ];

  it.each(fallbacks)('%s falls back to the rules and says why', async (_name, reply, reason) => {
    const incident = await oom();
    state.api.reply(reply);
    const diagnosis = await h.diagnoser({ maxRetries: 0 }).diagnose(context(incident));
    expect(state.api.requests).toHaveLength(1);
    expect(diagnosis.diagnoser).toBe('rules');
    expect(diagnosis.recommendedRunbookId).toBe('oom-watch');
    expect(diagnosis.fallbackReason).toMatch(reason);
    expect(diagnosis.fallbackReason).toMatch(/rule diagnosis/);
    expect(diagnosis.summary).toMatch(/killed for exceeding its memory limit/);
    expect((await h.ledger().forIncident(incident.id)).failures).toBe(1);
  });

  it('a timeout falls back to the rules within the deadline', async () => {
    const incident = await oom();
    state.api.reply({ kind: 'hang' });
    const diagnosis = await h.diagnoser({ timeoutMs: 300, maxRetries: 0 }).diagnose(context(incident));
    expect(diagnosis).toMatchObject({ diagnoser: 'rules', recommendedRunbookId: 'oom-watch' });
    expect(diagnosis.fallbackReason).toMatch(/did not answer before the deadline/);
  });

  it('a refused key (401) falls back and names ANTHROPIC_API_KEY', async () => {
    const incident = await oom();
    const diagnosis = await h.diagnoser({ apiKey: 'sk-ant-wrong' }).diagnose(context(incident));
    expect(diagnosis.fallbackReason).toMatch(/refused the key \(401.*check ANTHROPIC_API_KEY/);
  });

  it('529 with retry-after is retried by the SDK, and the second answer is used', async () => {
    const incident = await oom();
    state.api.reply(
      {
        kind: 'error',
        status: 529,
        type: 'overloaded_error',
        message: 'Overloaded',
        retryAfterSeconds: 0.05,
      },
      diagnosisReply({ runbookId: 'pod-restart' }),
    );
    const diagnosis = await h.diagnoser({ maxRetries: 1 }).diagnose(context(incident));
    expect(state.api.requests).toHaveLength(2);
    expect(diagnosis).toMatchObject({ diagnoser: 'anthropic', recommendedRunbookId: 'pod-restart' });
  });

  it('a spent monthly budget makes no call at all', async () => {
    const incident = await oom();
    await h.ledger().record(
      {
        incidentId: '0',
        fingerprint: 'x',
        model: 'claude-sonnet-5-5',
        inputTokens: 1_000_000,
        outputTokens: 200_000,
        failed: false,
      },
      state.clock.now(),
    );
    const diagnosis = await h.diagnoser({ monthlyBudgetUsd: 5 }).diagnose(context(incident));
    expect(state.api.requests).toHaveLength(0);
    expect(diagnosis.diagnoser).toBe('rules');
    expect(diagnosis.fallbackReason).toMatch(/budget is spent \(\$6\.00 of \$5\.00\)/);
    expect((await h.ledger().spent(state.clock.now())).month.budgetSkips).toBe(1);
  });

  it('the same fingerprint reopening is answered from the cache, also by another diagnoser instance', async () => {
    const first = await oom();
    const one = await h.diagnoser().diagnose(context(first));
    expect(one.diagnoser).toBe('anthropic');
    // The pod recovers, then the same problem opens again: a new incident with the same fingerprint.
    await h.ingest(h.finding('pods', 'apps/web-7d9f', 'ok', 'ok', podFacts('web-7d9f')));
    state.clock.advance(10 * 60_000);
    const second = await oom();
    expect(second.id).not.toBe(first.id);
    expect(second.fingerprint).toBe(first.fingerprint);
    const two = await h.diagnoser().diagnose(context(second));
    expect(state.api.requests).toHaveLength(1);
    expect(two).toMatchObject({ ...one, cached: true });
    expect((await h.ledger().spent(state.clock.now())).today.cacheHits).toBe(1);
    // An escalation is a new question: asked once, then cached too.
    await h.diagnoser().diagnose(context(second, 'escalated'));
    await h.diagnoser().diagnose(context(second, 'escalated'));
    expect(state.api.requests).toHaveLength(2);
  });

  it('two processes diagnosing the same problem at once make one call', async () => {
    const incident = await oom();
    // Answer slowly, so both diagnosers are in flight together.
    state.api.fallback = { kind: 'delay', ms: 300, reply: diagnosisReply() };
    const [a, b] = await Promise.all([
      h.diagnoser().diagnose(context(incident)),
      h.diagnoser().diagnose(context(incident)),
    ]);
    expect(state.api.requests).toHaveLength(1);
    expect([a.cached, b.cached].filter(Boolean)).toHaveLength(1);
    expect(a.summary).toBe(b.summary);
  });

  it('an invalid answer is cached as the rules fallback, so a reopening problem is not paid for twice', async () => {
    const incident = await oom();
    state.api.reply({ kind: 'text', text: 'no tool' });
    await h.diagnoser().diagnose(context(incident));
    const again = await h.diagnoser().diagnose(context(incident));
    expect(state.api.requests).toHaveLength(1);
    expect(again).toMatchObject({ diagnoser: 'rules', cached: true });
    expect(again.fallbackReason).toMatch(/without the submit_diagnosis tool call/);
  });

  it('with no candidate runbook the only valid answer is null (escalate)', async () => {
    const incident = await h.open(
      h.finding('http', 'api', 'bad-status', 'critical', { status: 503 }, 'HTTP 503'),
    );
    state.api.reply(diagnosisReply({ runbookId: null, summary: 'The backend is down.' }));
    const diagnosis = await h.diagnoser().diagnose(context(incident));
    const schema = state.api.requests[0]!.body!.tools![0]!.input_schema as {
      properties: { recommendedRunbookId: { enum: unknown[] } };
    };
    expect(schema.properties.recommendedRunbookId.enum).toEqual([null]);
    expect(diagnosis).toMatchObject({
      diagnoser: 'anthropic',
      recommendedRunbookId: null,
      alternativeRunbookIds: [],
    });
  });
});
