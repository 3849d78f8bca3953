import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { alertSeverity, alertTarget, alertToFinding } from '../../src/intake/alert-finding.js';

const defaults = configSchema.parse({}).intake.alertmanager;

describe('an alert as a finding', () => {
  it('takes a readable, stable target from the labels, the subject before the exporter', () => {
    const t = (labels: Record<string, string>) => alertTarget(labels, '1a30ba71cca2921f');
    // kube-state-metrics alerts: `instance` is the exporter, so the Kubernetes labels win.
    expect(t({ namespace: 'apps', pod: 'web-1', container: 'app', instance: '10.0.0.9:8080' })).toBe(
      'apps/web-1/app',
    );
    expect(t({ namespace: 'apps', pod: 'web-1' })).toBe('apps/web-1');
    expect(t({ namespace: 'apps', deployment: 'web', instance: '10.0.0.9:8080' })).toBe(
      'apps/deployment/web',
    );
    expect(t({ namespace: 'batch', job_name: 'backup-29' })).toBe('batch/job/backup-29');
    expect(t({ instance: 'web-1:9100', mountpoint: '/var', device: '/dev/sda2' })).toBe('web-1:9100:/var');
    expect(t({ instance: 'web-1:9100', device: 'sda' })).toBe('web-1:9100:sda');
    expect(t({ instance: 'https://shop.example.org' })).toBe('https://shop.example.org');
    expect(t({ node: 'node-1' })).toBe('node/node-1');
    expect(t({ job: 'blackbox' })).toBe('blackbox');
    expect(t({ namespace: 'apps' })).toBe('apps');
    expect(t({ team: 'blue' })).toBe('alert-1a30ba71cca2921f');
  });

  it('maps the severity label, with the config over the built-in map', () => {
    const s = (severity: string | undefined, options = defaults) =>
      alertSeverity(severity === undefined ? {} : { severity }, options);
    expect([
      s('critical'),
      s('Error'),
      s('page'),
      s('warning'),
      s('info'),
      s('none'),
      s('P1'),
      s(undefined),
    ]).toEqual(['critical', 'critical', 'critical', 'warning', 'warning', 'ok', 'warning', 'warning']);
    const custom = configSchema.parse({
      intake: { alertmanager: { defaultSeverity: 'critical', severities: { P1: 'critical', info: 'ok' } } },
    }).intake.alertmanager;
    const tame = configSchema.parse({ intake: { alertmanager: { severities: { P1: 'critical' } } } }).intake
      .alertmanager;
    expect([s('p1', tame), s('info', custom), s('sev9', tame), s('sev9', custom)]).toEqual([
      'critical', // any case
      'ok',
      'warning',
      'critical', // unknown values take defaultSeverity
    ]);
  });

  it('keeps labels as facts, Reef facts winning; a resolved alert is an ok finding', () => {
    const labels = {
      alertname: 'HostDown',
      instance: 'web-1:9100',
      startsAt: 'a label',
      summary: 'label wins',
    };
    const alert = {
      status: 'firing' as const,
      labels,
      annotations: { summary: 'annotation', description: 'Host web-1 is down.' },
      startsAt: '2026-03-01T10:00:00Z',
      fingerprint: 'abc',
    };
    const finding = alertToFinding(alert, defaults, new Date('2026-03-01T10:05:00Z'));
    expect(finding).toMatchObject({
      check: 'alert',
      condition: 'HostDown',
      target: 'web-1:9100',
      severity: 'warning',
      summary: 'annotation',
      observedAt: '2026-03-01T10:05:00.000Z',
    });
    expect(finding.facts).toEqual({
      alertname: 'HostDown',
      instance: 'web-1:9100',
      startsAt: '2026-03-01T10:00:00Z',
      summary: 'label wins',
      description: 'Host web-1 is down.',
      alertFingerprint: 'abc',
    });
    const resolved = alertToFinding({ ...alert, status: 'resolved' }, defaults, new Date());
    expect(resolved).toMatchObject({ severity: 'ok', fingerprint: finding.fingerprint });
  });
});
