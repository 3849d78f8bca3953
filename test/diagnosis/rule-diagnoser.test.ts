import { describe, expect, it } from 'vitest';
import type { DiagnosisContext } from '../../src/diagnosis/diagnoser.js';
import { RuleDiagnoser } from '../../src/diagnosis/rule-diagnoser.js';
import { type Facts, fingerprintOf } from '../../src/findings/finding.js';
import type { Incident } from '../../src/incidents/incident.js';
import { removeRunbookDirs } from '../fixtures/runbooks/temp-runbooks.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { podFacts, testCatalog } from './harness.js';

function incident(
  check: Incident['check'],
  target: string,
  condition: string,
  facts: Facts,
  summary = '',
): Incident {
  const at = '2026-11-28T10:00:00.000Z';
  return {
    id: '7',
    fingerprint: fingerprintOf(check, target, condition),
    check,
    target,
    condition,
    state: 'open',
    severity: 'critical',
    summary,
    facts,
    openedAt: at,
    updatedAt: at,
    lastSeenAt: at,
    occurrences: 1,
    openingsInWindow: 1,
    flapping: false,
    history: [],
  };
}

describe('rule-based diagnoser', () => {
  const clock = new FakeClock('2026-11-28T10:00:00Z');
  const rules = new RuleDiagnoser(clock);
  const catalog = testCatalog();
  removeRunbookDirs();
  const context = (i: Incident, pastConditions: string[] = []): DiagnosisContext => ({
    incident: i,
    candidates: catalog.match(i),
    trigger: 'opened',
    events: [],
    logLines: [],
    pastIncidents: pastConditions.map((condition, n) => ({
      id: String(n + 1),
      condition,
      state: 'resolved',
      openedAt: '2026-11-27T10:00:00Z',
      summary: condition,
    })),
  });

  it('OOMKilled with rising restarts: memory limit too low or a leak; a restart buys time', async () => {
    const d = await rules.diagnose(context(incident('pods', 'apps/web-1', 'OOMKilled', podFacts('web-1'))));
    expect(d).toMatchObject({
      diagnoser: 'rules',
      recommendedRunbookId: 'oom-watch',
      alternativeRunbookIds: ['pod-restart'],
      confidence: 0.8,
      at: '2026-11-28T10:00:00.000Z',
    });
    expect(d.summary).toBe(
      'Container app of apps/web-1 was killed for exceeding its memory limit (5 restarts). Proposed: runbook oom-watch (Watch an OOM-killed pod settle).',
    );
    expect(d.probableCause).toMatch(/^Memory limit too low or a leak; a restart buys time/);
    expect(d.fallbackReason).toBeUndefined();
  });

  it('a single OOM kill is a burst, with less confidence', async () => {
    const facts = podFacts('web-1', { restartCount: 1, previousRestartCount: 1 });
    const d = await rules.diagnose(context(incident('pods', 'apps/web-1', 'OOMKilled', facts)));
    expect(d.confidence).toBe(0.6);
    expect(d.probableCause).toMatch(/^A burst of memory use/);
  });

  it('reads the exit code of a crash loop', async () => {
    const facts = podFacts('web-1', { exitCode: 127, lastTerminationReason: 'Error' });
    const d = await rules.diagnose(context(incident('pods', 'apps/web-1', 'CrashLoopBackOff', facts)));
    expect(d.probableCause).toMatch(/^Exit 127: the entrypoint is not found in the image/);
    expect(d.recommendedRunbookId).toBe('pod-restart');
  });

  it('no matching runbook: null, a human decides', async () => {
    const d = await rules.diagnose(
      context(incident('http', 'api', 'bad-status', { status: 503 }, 'HTTP 503')),
    );
    expect(d).toMatchObject({ recommendedRunbookId: null, alternativeRunbookIds: [] });
    expect(d.summary).toMatch(/No runbook matches: a human decides/);
    expect(d.probableCause).toMatch(/proxy or load balancer cannot reach a healthy backend/);
  });

  it('a problem that keeps coming back lowers the confidence and says so', async () => {
    const d = await rules.diagnose(
      context(incident('pods', 'apps/web-1', 'OOMKilled', podFacts('web-1')), ['OOMKilled', 'OOMKilled']),
    );
    expect(d.confidence).toBe(0.6);
    expect(d.probableCause).toMatch(/opened 2 times before on this target/);
  });

  it('explains every check with a rule, and anything unknown generically', async () => {
    const cases: [Incident, RegExp][] = [
      [
        incident('disk', 'web-1:/var', 'disk-critical', {
          usedPercent: 93,
          largestDirectories: [{ path: '/var/log/nginx', sizeBytes: 4e9 }],
        }),
        /under \/var\/log\/nginx/,
      ],
      [incident('certificate', 'api-tls', 'expiring', { daysLeft: 2.5 }), /renewal did not run or failed/],
      [
        incident('errorLogs', 'api-log', 'error-spike', {
          current: 120,
          factor: 8,
          window: '1h',
          topMessages: [{ message: 'db timeout', count: 90 }],
        }),
        /mostly "db timeout"/,
      ],
      [incident('http', 'api', 'mystery', {}, 'odd'), /No rule explains this condition; the check says: odd/],
    ];
    for (const [i, cause] of cases) expect((await rules.diagnose(context(i))).probableCause).toMatch(cause);
  });
});
