import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../../src/findings/finding.js';
import type { Incident } from '../../../src/incidents/incident.js';
import { loadCatalog } from '../../../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../../src/runbooks/location.js';
import { ACTION_IDS } from '../../../src/surfaces/slack/actions.js';
import { type Block, CUT_NOTE, LIMITS, mrkdwn, prepareMessage } from '../../../src/surfaces/slack/blocks.js';
import { incidentMessage } from '../../../src/surfaces/slack/incident-message.js';
import { blockProblem } from '../../fixtures/slack-wire.js';

const catalog = loadCatalog(BUNDLED_RUNBOOKS_DIR);
const now = new Date('2026-11-28T03:10:00Z');

function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: '42',
    fingerprint: fingerprintOf('pods', 'apps/web-1', 'CrashLoopBackOff'),
    check: 'pods',
    target: 'apps/web-1',
    probe: 'lab',
    condition: 'CrashLoopBackOff',
    state: 'awaiting-approval',
    severity: 'critical',
    summary: 'container app is crash-looping: 4 restarts, last exit 1 (Error)',
    facts: {
      cluster: 'lab',
      namespace: 'apps',
      pod: 'web-1',
      ownerKind: 'Deployment',
      ownerName: 'web',
      stateful: false,
    },
    openedAt: '2026-11-28T03:00:00Z',
    updatedAt: '2026-11-28T03:00:05Z',
    lastSeenAt: '2026-11-28T03:00:00Z',
    occurrences: 1,
    openingsInWindow: 1,
    flapping: false,
    proposedRunbookId: 'pod-restart',
    history: [
      { at: '2026-11-28T03:00:00Z', state: 'open' },
      { at: '2026-11-28T03:00:05Z', state: 'awaiting-approval', by: 'reef', note: 'runbook pod-restart' },
    ],
    ...overrides,
  };
}

const texts = (blocks: readonly Block[] | undefined) => JSON.stringify(blocks ?? []);

describe('the incident message', () => {
  it('shows severity, target, facts, the diagnosis, the exact steps and the buttons', () => {
    const message = prepareMessage(
      incidentMessage({
        incident: incident({
          diagnosis: {
            summary: 'The pod restarts after an out-of-memory kill.',
            probableCause: 'memory leak in the web container',
            confidence: 0.72,
            recommendedRunbookId: 'pod-restart',
            alternativeRunbookIds: [],
            diagnoser: 'rules',
            fallbackReason: 'the LLM answered a runbook id outside the candidates',
            at: '2026-11-28T03:00:04Z',
          },
        }),
        catalog,
        status: { now, expiresAt: new Date('2026-11-28T03:30:05Z') },
      }),
    );
    const all = texts(message.blocks);
    expect(message.blocks?.[0]).toMatchObject({
      type: 'header',
      text: { text: ':red_circle: CRITICAL · pods/apps/web-1' },
    });
    expect(all).toContain('*CrashLoopBackOff*: container app is crash-looping');
    expect(all).toContain('• ownerName: `web`');
    expect(all).toContain('*Diagnosis* (rules, 72% confidence)');
    expect(all).toContain('*Probable cause:* memory leak in the web container');
    expect(all).toContain(
      "The LLM's answer was not used: the LLM answered a runbook id outside the candidates",
    );
    expect(all).toContain(
      'POST /api/v1/namespaces/apps/pods/web-1/eviction (policy/v1 Eviction) on cluster lab',
    );
    // Each reader sees it in their own time zone; the fallback is UTC.
    expect(all).toContain('expires <!date^1795836605^{date_short_pretty} {time}|2026-11-28 03:30 UTC>');
    const actions = message.blocks?.find((b) => b.type === 'actions');
    expect(actions?.type === 'actions' && actions.elements.map((e) => e.action_id)).toEqual([
      ACTION_IDS.approve,
      ACTION_IDS.alternative,
      ACTION_IDS.dismiss,
      ACTION_IDS.silence1h,
      ACTION_IDS.silence24h,
    ]);
    expect(blockProblem(message.blocks)).toBeUndefined();
  });

  it('has no buttons once the incident is running or over, and says how it went', () => {
    for (const state of ['executing', 'verifying', 'resolved', 'dismissed'] as const) {
      const message = incidentMessage({
        incident: incident({
          state,
          durationMs: 240_000,
          history: [
            ...incident().history,
            { at: '2026-11-28T03:01:00Z', state: 'executing', by: 'UANA', note: 'runbook pod-restart' },
          ],
        }),
        catalog,
        status: { now },
      });
      expect(texts(message.blocks)).not.toContain(ACTION_IDS.approve);
      if (state === 'resolved')
        expect(texts(message.blocks)).toContain(
          '*Resolved* after 4m (approved by <@UANA> → `pod-restart`, verified)',
        );
    }
  });

  it('stays within Block Kit limits whatever the incident holds, and says what it cut', () => {
    const facts = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`fact${i}`, 'x'.repeat(500)]));
    const message = prepareMessage(
      incidentMessage({
        incident: incident({
          summary: 'y'.repeat(10_000),
          target: `apps/${'w'.repeat(300)}`,
          facts: { ...incident().facts, ...facts },
        }),
        catalog,
        status: { now },
      }),
    );
    expect(blockProblem(message.blocks)).toBeUndefined();
    const all = texts(message.blocks);
    expect(all).toContain(CUT_NOTE);
    expect(all).toContain('…and 54 more');
    expect(message.text.length).toBeLessThanOrEqual(LIMITS.messageText);
  });

  it('keeps at most 50 blocks: the middle goes, the buttons and status line stay', () => {
    const blocks: Block[] = Array.from({ length: 70 }, (_, i) => ({
      type: 'section',
      text: mrkdwn(`block ${i}`),
    }));
    const fitted = prepareMessage({ text: 'many', blocks })!.blocks!;
    expect(fitted).toHaveLength(50);
    expect(texts(fitted)).toContain('21 more blocks left out');
    expect(texts(fitted.slice(-2))).toBe(texts(blocks.slice(-2)));
  });
});
