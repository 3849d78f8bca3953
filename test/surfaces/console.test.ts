import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { IncidentEvent } from '../../src/events/incident-event.js';
import type { Incident } from '../../src/incidents/incident.js';
import { ConsoleSurface } from '../../src/surfaces/console.js';

const incident: Incident = {
  id: '7',
  fingerprint: '0123456789abcdef',
  check: 'certificate',
  target: 'api-tls',
  condition: 'expiring',
  state: 'open',
  severity: 'warning',
  summary: 'certificate expires in 10 days',
  facts: { daysLeft: 10, issuer: 'CN=R3, O=Let us Encrypt', altNames: ['DNS:api.example.org'] },
  openedAt: '2026-11-28T03:00:00.000Z',
  updatedAt: '2026-11-28T03:00:00.000Z',
  lastSeenAt: '2026-11-28T03:00:00.000Z',
  occurrences: 1,
  openingsInWindow: 1,
  flapping: false,
  history: [],
};

function render(event: Omit<IncidentEvent, 'at'>, tz = 'Europe/Berlin'): string {
  return new ConsoleSurface(new PassThrough(), tz, false).render({
    at: '2026-11-28T03:00:05.000Z',
    ...event,
  });
}

describe('console surface', () => {
  it('an opened incident shows time in the configured zone, severity, target, summary, scalar facts and what to type', () => {
    const text = render({ type: 'opened', incident });
    expect(text.split('\n')).toEqual([
      '[04:00:05] WARNING #7 certificate/api-tls expiring: certificate expires in 10 days',
      '           daysLeft=10 issuer="CN=R3, O=Let us Encrypt"',
      '           → reef approve 7  reef dismiss 7',
    ]);
  });

  it('resolutions say how long the incident lasted', () => {
    const text = render(
      {
        type: 'resolved',
        incident: { ...incident, state: 'resolved', durationMs: 3_723_000 },
        note: 'target healthy again',
      },
      'UTC',
    );
    expect(text).toBe(
      '[03:00:05] RESOLVED #7 certificate/api-tls expiring after 1h 2m 3s (target healthy again)',
    );
  });

  it('flapping, worsening, dismissal and missing runbooks each read as one line', () => {
    expect(
      render(
        { type: 'flapping', incident, note: 'opened 3 times within 24h; further changes stay quiet' },
        'UTC',
      ),
    ).toBe(
      '[03:00:05] FLAPPING #7 certificate/api-tls expiring: opened 3 times within 24h; further changes stay quiet — last: certificate expires in 10 days',
    );
    expect(
      render(
        { type: 'worsened', incident: { ...incident, severity: 'critical' }, note: 'warning → critical' },
        'UTC',
      ),
    ).toMatch(/^\[03:00:05\] CRITICAL #7 certificate\/api-tls worse \(warning → critical\)/);
    expect(render({ type: 'dismissed', incident, by: 'cli:alice', note: 'planned' }, 'UTC')).toBe(
      '[03:00:05] DISMISSED #7 certificate/api-tls by cli:alice: planned',
    );
    expect(render({ type: 'approval-unavailable', incident }, 'UTC')).toMatch(
      /NO RUNBOOK #7 certificate\/api-tls: no runbook matches/,
    );
  });

  it('renders the decision, execution and verification events', () => {
    const at = (type: IncidentEvent['type'], note: string, by?: string) =>
      render({ type, incident, note, ...(by ? { by } : {}) }, 'UTC');
    expect(at('awaiting-approval', 'runbook certificate-renewal')).toBe(
      [
        '[03:00:05] APPROVAL NEEDED #7 certificate/api-tls expiring: runbook certificate-renewal',
        '           → reef approve 7  reef plan 7  reef dismiss 7',
      ].join('\n'),
    );
    expect(at('suggested', 'runbook x')).toBe('[03:00:05] SUGGESTION #7 certificate/api-tls: runbook x');
    expect(at('executing', 'runbook x', 'cli:alice')).toBe(
      '[03:00:05] RUNNING #7 certificate/api-tls (asked by cli:alice): runbook x',
    );
    expect(at('step', 'renewed')).toBe('[03:00:05]   step #7 certificate/api-tls: renewed');
    expect(at('verifying', 'in 120s')).toBe('[03:00:05] VERIFYING #7 certificate/api-tls: in 120s');
    expect(at('verified', 'passed')).toBe('[03:00:05] VERIFIED #7 certificate/api-tls: passed');
    expect(at('escalated', 'no runbook')).toBe(
      '[03:00:05] ESCALATED #7 certificate/api-tls expiring: no runbook',
    );
  });

  it('notify writes the rendered event to its stream', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    await new ConsoleSurface(out, 'UTC', false).notify({
      type: 'dismissed',
      incident,
      at: '2026-11-28T03:00:05.000Z',
      by: 'bob',
    });
    expect(text).toBe('[03:00:05] DISMISSED #7 certificate/api-tls by bob\n');
  });
});
