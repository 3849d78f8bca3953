import type { Redis } from 'ioredis';
import type { ReefConfig } from '../../src/config/schema.js';
import { type Finding, makeFinding } from '../../src/findings/finding.js';
import { recordSweep } from '../../src/history/record-sweep.js';
import type { FakeClock } from '../helpers/fake-clock.js';

/**
 * A synthetic week of sweeps, written through the real recording code (`recordSweep`, as a worker calls
 * it) with the fake clock moved to each sweep's time. Every series has a known shape, so the report's
 * numbers can be asserted exactly:
 *   checkout      error rate 100/h rising linearly to 115/h   → +15 % over 7 days
 *   web-errors    20/h, 45/h from the rollout of web rev 42   → correlated jump (+125 %)
 *   api           latency flat 120 ms                         → no drift
 *   shop          latency 200 ms rising to 260 ms             → +30 % latency drift
 *   self:/var     used % growing 4.5 points a day to 80 %     → full in 4 days
 *   api-tls       certificate notAfter = end + 9 days 5 hours → due in 9 days
 *   apps/leaky    OOMKilled 1,1,2,2,3,4,5 times a day          → leak suspected
 */
export const WEEK = {
  tz: 'Europe/Berlin',
  /** 04:00 in Berlin, the report's end. */
  end: Date.parse('2026-11-28T03:00:00Z'),
  /** 14:05 CET two days before. */
  rollout: Date.parse('2026-11-26T13:05:00Z'),
  stepMs: 30 * 60_000,
  oomPerDay: [1, 1, 2, 2, 3, 4, 5],
  notAfter: Date.parse('2026-11-28T03:00:00Z') + 9 * 86_400_000 + 5 * 3_600_000,
};

const DAY = 86_400_000;

export function weekConfig(kubeconfig: string): Record<string, unknown> {
  return {
    timezone: WEEK.tz,
    hosts: { self: { local: true } },
    clusters: { lab: { kubeconfig, namespaces: ['apps'] } },
    checks: {
      http: [
        { name: 'api', url: 'http://127.0.0.1:9/api' },
        { name: 'shop', url: 'http://127.0.0.1:9/shop' },
      ],
      certificates: [{ name: 'api-tls', url: 'https://127.0.0.1:9' }],
      disk: [{ host: 'self', paths: ['/var'] }],
      pods: [{ cluster: 'lab', watch: false }],
      errorLogs: [
        { name: 'checkout', host: 'self', path: '/var/log/checkout.log', pattern: 'ERROR' },
        {
          name: 'web-errors',
          cluster: 'lab',
          namespace: 'apps',
          selector: 'app=web',
          pattern: 'level=error',
        },
      ],
    },
  };
}

/** Small, deterministic wobble so the lines are fitted, not read off. */
function wobble(t: number, amplitude: number): number {
  return amplitude * Math.sin((t / DAY) * 2 * Math.PI * 3);
}

export function findingsAt(t: number, oomKills: { count: number; lastKillAt: number }): Finding[] {
  const at = new Date(t);
  const start = WEEK.end - 7 * DAY;
  const progress = (t - start) / (7 * DAY);
  const f = (fields: Omit<Finding, 'fingerprint' | 'observedAt'>) => makeFinding(fields, at);
  const errorLog = (name: string, perHour: number) =>
    f({
      check: 'errorLogs',
      target: name,
      condition: 'ok',
      severity: 'ok',
      summary: `${Math.round(perHour)} matches in the last 1h`,
      facts: { current: Math.round(perHour), windowMs: 3_600_000, window: '1h' },
    });
  const http = (name: string, latencyMs: number) =>
    f({
      check: 'http',
      target: name,
      condition: 'ok',
      severity: 'ok',
      summary: `HTTP 200 in ${latencyMs} ms`,
      facts: { url: `http://127.0.0.1:9/${name}`, status: 200, latencyMs: Math.round(latencyMs) },
    });
  const used = 80 - 4.5 * ((WEEK.end - t) / DAY);
  const findings = [
    errorLog('checkout', 100 * (1 + 0.15 * progress) + wobble(t, 2)),
    errorLog('web-errors', (t >= WEEK.rollout ? 45 : 20) + wobble(t, 1)),
    http('api', 120 + wobble(t, 3)),
    http('shop', 200 + 60 * progress + wobble(t, 4)),
    f({
      check: 'certificate',
      target: 'api-tls',
      condition: 'ok',
      severity: 'ok',
      summary: 'valid',
      facts: {
        url: 'https://127.0.0.1:9',
        daysLeft: Math.floor(((WEEK.notAfter - t) / DAY) * 10) / 10,
        notAfter: new Date(WEEK.notAfter).toISOString(),
        subject: 'CN=api.example.org',
      },
    }),
    f({
      check: 'disk',
      target: 'self:/var',
      condition: used >= 85 ? 'disk-high' : 'ok',
      severity: 'ok',
      summary: `/var at ${Math.round(used)}%`,
      facts: { host: 'self', mount: '/var', usedPercent: Math.round(used), sizeBytes: 100e9 },
    }),
  ];
  // A leaking workload: an OOMKilled finding while the last kill is under an hour old, ok otherwise.
  const facts = {
    cluster: 'lab',
    namespace: 'apps',
    pod: 'leaky-7d9f-abcde',
    ownerKind: 'Deployment',
    ownerName: 'leaky',
    container: 'app',
    restartCount: oomKills.count,
    lastTerminationReason: 'OOMKilled',
  };
  if (oomKills.count > 0 && t - oomKills.lastKillAt < 3_600_000) {
    findings.push(
      f({
        check: 'pods',
        target: 'apps/leaky-7d9f-abcde',
        condition: 'OOMKilled',
        severity: 'critical',
        summary: 'container app was OOMKilled',
        facts,
      }),
    );
  }
  return findings;
}

/** Writes the week: one sweep every 30 minutes, OOM kills spread evenly over each day. */
export async function writeWeek(
  redis: Redis,
  prefix: string,
  config: ReefConfig,
  clock: FakeClock,
): Promise<number> {
  const start = WEEK.end - 7 * DAY;
  const kills: number[] = [];
  WEEK.oomPerDay.forEach((n, day) => {
    for (let k = 0; k < n; k++) kills.push(start + day * DAY + ((k + 0.5) * DAY) / n);
  });
  const oom = { count: 0, lastKillAt: 0 };
  let samples = 0;
  for (let t = start; t < WEEK.end; t += WEEK.stepMs) {
    while (kills.length > 0 && kills[0]! <= t) {
      oom.count++;
      oom.lastKillAt = kills.shift()!;
    }
    clock.advance(t - clock.now().getTime());
    samples += await recordSweep(redis, prefix, config, findingsAt(t, oom), clock.now());
  }
  clock.advance(WEEK.end - clock.now().getTime());
  return samples;
}
