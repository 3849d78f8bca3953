import type { Redis } from 'ioredis';
import type { Clock } from '../../src/adapters/clock.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { configSchema, type ReefConfig } from '../../src/config/schema.js';
import type { IncidentEvent } from '../../src/events/incident-event.js';
import { type Finding, makeFinding } from '../../src/findings/finding.js';
import { IncidentHistory } from '../../src/history/incident-history.js';
import { recordSweep } from '../../src/history/record-sweep.js';
import { type Incident, transition } from '../../src/incidents/incident.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { makeReplicaSet } from '../../test/fixtures/kube-objects.js';
import type { KubeStore } from '../../test/fixtures/kube-store.js';

/**
 * A synthetic fleet with history, for the Brainstorm benchmark and the sample report in docs/: N targets
 * (40 % HTTP endpoints, 20 % disk mounts, 15 % error logs, 10 % certificates, 15 % workloads) and days of
 * hourly sweeps written through the real recording code (`recordSweep`), plus the last day's incidents,
 * a runbook record in the audit log and Deployment rollouts for the local Kubernetes API stand-in. A few
 * of each kind misbehave: error rates and latencies drift, disks fill up, certificates come due, a
 * workload leaks memory, a rollout doubles an error rate, a target flaps. Deterministic (seeded).
 */

const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface Fleet {
  config: ReefConfig;
  /** The report's end (a 04:00 in the fleet's zone). */
  end: number;
  http: number;
  disks: number;
  logs: number;
  certificates: number;
  workloads: number;
}

export function makeFleet(options: {
  targets: number;
  end: number;
  kubeconfig: string;
  timezone: string;
  prefix: string;
}): Fleet {
  const n = options.targets;
  const http = Math.round(n * 0.4);
  const disks = Math.round(n * 0.2);
  const logs = Math.round(n * 0.15);
  const certificates = Math.round(n * 0.1);
  const workloads = n - http - disks - logs - certificates;
  const podLogs = Math.max(1, Math.round(logs / 3));
  const config = configSchema.parse({
    timezone: options.timezone,
    redis: { prefix: options.prefix },
    hosts: { 'nas-1': { local: true } },
    clusters: { lab: { kubeconfig: options.kubeconfig, namespaces: ['apps'] } },
    checks: {
      http: range(http).map((i) => ({ name: `svc-${i}`, url: `https://svc-${i}.example.org/healthz` })),
      certificates: range(certificates).map((i) => ({
        name: `tls-${i}`,
        url: `https://svc-${i}.example.org`,
      })),
      disk: [{ host: 'nas-1', paths: range(disks).map((i) => `/srv/vol-${i}`) }],
      pods: [{ cluster: 'lab', watch: false }],
      errorLogs: range(logs).map((i) =>
        i < podLogs
          ? {
              name: `app-${i}-errors`,
              cluster: 'lab',
              namespace: 'apps',
              selector: `app=app-${i}`,
              pattern: 'level=error',
            }
          : { name: `log-${i}`, host: 'nas-1', path: `/var/log/svc-${i}.log`, pattern: 'ERROR' },
      ),
    },
  });
  return { config, end: options.end, http, disks, logs, certificates, workloads };
}

/** Mulberry32: a small seeded PRNG, so every run writes the same fleet. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** When the rollout of app-0 happened: 2 days and 10 hours before the end. */
export function rolloutAt(fleet: Fleet): number {
  return fleet.end - 2 * DAY - 10 * HOUR + 5 * 60_000;
}

/** Writes `days` of hourly sweeps ending at the fleet's end; returns how many samples were recorded. */
export async function writeFleetHistory(
  redis: Redis,
  prefix: string,
  fleet: Fleet,
  days: number,
  onDay?: (day: number) => void,
): Promise<number> {
  const start = fleet.end - days * DAY;
  const rnd = prng(42);
  const httpBase = range(fleet.http).map(() => 50 + rnd() * 250);
  const diskBase = range(fleet.disks).map(() => 30 + rnd() * 40);
  const logBase = range(fleet.logs).map(() => 5 + rnd() * 195);
  const certNotAfter = range(fleet.certificates).map(
    (i) => fleet.end + (i < 3 ? [9, 17, 26][i]! : 40 + rnd() * 300) * DAY + 5 * HOUR,
  );
  const restarts = new Map<string, number>();
  const rollout = rolloutAt(fleet);
  const podLogs = fleet.config.checks.errorLogs.filter((t) => t.cluster).length;
  let samples = 0;
  for (let t = start; t < fleet.end; t += HOUR) {
    const at = new Date(t);
    const week = Math.max(0, (t - (fleet.end - 7 * DAY)) / (7 * DAY));
    const wobble = (i: number, amplitude: number) => amplitude * Math.sin(t / (5 * HOUR) + i);
    const f = (fields: Omit<Finding, 'fingerprint' | 'observedAt'>) => makeFinding(fields, at);
    const findings: Finding[] = [];
    fleet.config.checks.http.forEach((target, i) => {
      // Every 50th endpoint slows down over the last week.
      const drift = i % 50 === 7 ? 1 + 0.25 * week : 1;
      const up = !(i === 3 && t > fleet.end - DAY && Math.floor((fleet.end - t) / (3 * HOUR)) % 2 === 0);
      findings.push(
        f({
          check: 'http',
          target: target.name,
          condition: up ? 'ok' : 'unreachable',
          severity: up ? 'ok' : 'critical',
          summary: '',
          facts: up
            ? { status: 200, latencyMs: Math.round(httpBase[i]! * drift + wobble(i, 8)) }
            : { latencyMs: 5000 },
        }),
      );
    });
    fleet.config.checks.disk[0]?.paths.forEach((mount, i) => {
      // Every 40th mount fills 4.5 points a day from 7 days back.
      const growing = i % 40 === 1;
      const used = growing ? 80 - 4.5 * ((fleet.end - t) / DAY) : diskBase[i]! + wobble(i, 1);
      findings.push(
        f({
          check: 'disk',
          target: `nas-1:${mount}`,
          condition: 'ok',
          severity: 'ok',
          summary: '',
          facts: { host: 'nas-1', mount, usedPercent: Math.max(1, Math.min(100, Math.round(used))) },
        }),
      );
    });
    fleet.config.checks.errorLogs.forEach((target, i) => {
      let rate = logBase[i]!;
      if (i % 30 === 5) rate *= 1 + 0.15 * week;
      if (i === 0 && t >= rollout) rate *= 2.2;
      if (i < podLogs && i !== 0) rate = logBase[i]! / 4;
      findings.push(
        f({
          check: 'errorLogs',
          target: target.name,
          condition: 'ok',
          severity: 'ok',
          summary: '',
          facts: { current: Math.max(0, Math.round(rate + wobble(i, rate * 0.03))), windowMs: HOUR },
        }),
      );
    });
    fleet.config.checks.certificates.forEach((target, i) => {
      findings.push(
        f({
          check: 'certificate',
          target: target.name,
          condition: 'ok',
          severity: 'ok',
          summary: '',
          facts: {
            daysLeft: Math.floor(((certNotAfter[i]! - t) / DAY) * 10) / 10,
            notAfter: new Date(certNotAfter[i]!).toISOString(),
            subject: `CN=svc-${i}.example.org`,
          },
        }),
      );
    });
    for (let w = 0; w < fleet.workloads; w++) {
      const pod = `work-${w}-7d9f-x${w}`;
      const day = Math.floor((t - (fleet.end - 7 * DAY)) / DAY);
      // Workload 0 leaks: OOM kills at a rising pace over the week; every 10th restarts now and then.
      const leaking = w === 0 && day >= 0 && (t / HOUR) % Math.max(2, 24 - day * 3) === 0;
      const flaky = w % 10 === 4 && rnd() < 0.01;
      if (!leaking && !flaky) continue;
      const count = (restarts.get(pod) ?? 0) + 1;
      restarts.set(pod, count);
      findings.push(
        f({
          check: 'pods',
          target: `apps/${pod}`,
          condition: leaking ? 'OOMKilled' : 'restarting',
          severity: 'warning',
          summary: '',
          facts: {
            cluster: 'lab',
            namespace: 'apps',
            pod,
            ownerKind: 'Deployment',
            ownerName: `work-${w}`,
            container: 'app',
            restartCount: count,
            previousRestartCount: count - 1,
            lastTerminationReason: leaking ? 'OOMKilled' : 'Error',
          },
        }),
      );
    }
    samples += await recordSweep(redis, prefix, fleet.config, findings, at);
    if (onDay && (t - start) % DAY === 0) onDay((t - start) / DAY);
  }
  return samples;
}

/** The rollouts the Kubernetes stand-in serves: app-0 revision 42 within the week, older ones for the rest. */
export function putRollouts(store: KubeStore, fleet: Fleet): void {
  const podLogs = fleet.config.checks.errorLogs.filter((t) => t.cluster).length;
  for (let i = 0; i < podLogs; i++) {
    store.put(
      makeReplicaSet({
        name: `app-${i}-5d8`,
        namespace: 'apps',
        deployment: `app-${i}`,
        revision: i === 0 ? 42 : 7,
        createdAt: new Date(i === 0 ? rolloutAt(fleet) : fleet.end - 20 * DAY).toISOString(),
        podLabels: { app: `app-${i}` },
      }),
    );
  }
}

/** The last day's incidents (through the real tracker and lifecycle) and a month of runbook approvals. */
export async function writeFleetIncidents(
  redis: Redis,
  prefix: string,
  fleet: Fleet,
  clock: Clock & { advance(ms: number): void },
  retentionMs: number,
): Promise<void> {
  const store = new IncidentStore(redis, prefix);
  const history = new IncidentHistory(redis, prefix, retentionMs);
  const audit = new AuditLog(redis, prefix, { clock });
  const record = async (events: readonly IncidentEvent[]) => {
    for (const e of events) await history.record(e);
  };
  const tracker = new IncidentTracker(store, clock);
  clock.advance(fleet.end - 20 * HOUR - clock.now().getTime());
  for (let round = 0; round < 4; round++) {
    for (const severity of ['critical', 'ok'] as const) {
      const finding = makeFinding(
        {
          check: 'http',
          target: 'svc-3',
          condition: severity === 'ok' ? 'ok' : 'unreachable',
          severity,
          summary: severity === 'ok' ? 'HTTP 200 in 80 ms' : 'unreachable: connect ECONNREFUSED',
          facts: {},
        },
        clock.now(),
      );
      await record(
        await tracker.ingest(
          {
            outcomes: [
              {
                status: severity === 'ok' ? 'ok' : 'anomaly',
                check: 'http',
                target: 'svc-3',
                findings: [finding],
              },
            ],
            only: 'svc-3',
          },
          fleet.config,
        ),
      );
      clock.advance(40 * 60_000);
    }
    clock.advance(2 * HOUR);
  }
  let id = 9000;
  const lifecycle = async (
    check: Incident['check'],
    target: string,
    condition: string,
    at: number,
    moves: [Incident['state'], number, string][],
  ) => {
    const finding = makeFinding(
      { check, target, condition, severity: 'critical', summary: `${target}: ${condition}`, facts: {} },
      new Date(at),
    );
    let incident: Incident = {
      id: String(++id),
      fingerprint: finding.fingerprint,
      check,
      target,
      condition,
      state: 'open',
      severity: 'critical',
      summary: finding.summary,
      facts: {},
      openedAt: finding.observedAt,
      updatedAt: finding.observedAt,
      lastSeenAt: finding.observedAt,
      occurrences: 1,
      openingsInWindow: 1,
      flapping: false,
      history: [{ at: finding.observedAt, state: 'open' }],
    };
    await store.save(incident);
    await record([{ type: 'opened', incident, at: incident.openedAt }]);
    for (const [state, offset, by] of moves) {
      incident = transition(incident, state, new Date(at + offset), { by });
      await store.save(incident, state === 'resolved' ? { releaseFingerprint: true } : {});
      // These states are also the names of the events that announce them.
      await record([{ type: state as IncidentEvent['type'], incident, at: incident.updatedAt, by }]);
    }
  };
  const m = 60_000;
  await lifecycle('pods', 'apps/work-0-7d9f-x0', 'OOMKilled', fleet.end - 9 * HOUR, [
    ['awaiting-approval', m, 'reef'],
    ['executing', 14 * m, 'U024BE7LH'],
    ['verifying', 15 * m, 'reef'],
    ['resolved', 17 * m, 'reef'],
  ]);
  await lifecycle('disk', 'nas-1:/srv/vol-1', 'disk-high', fleet.end - 6 * HOUR, [
    ['escalated', 2 * m, 'reef'],
  ]);
  await lifecycle('pods', 'apps/work-4-7d9f-x4', 'CrashLoopBackOff', fleet.end - 4 * HOUR, [
    ['executing', m, 'reef'],
    ['verifying', 2 * m, 'reef'],
    ['resolved', 6 * m, 'reef'],
  ]);
  await lifecycle('certificate', 'tls-2', 'untrusted', fleet.end - 3 * HOUR, [
    ['dismissed', 9 * m, 'U024BE7LH'],
  ]);

  let at = fleet.end - 28 * DAY;
  const step = (ms: number) => {
    at += ms;
    return new Date(at);
  };
  const flow = async (
    incidentId: string,
    proposed: string,
    approved: string,
    result: 'passed' | 'failed',
  ) => {
    const base = { actor: 'reef', incidentId, target: 'pods/apps/work' };
    await audit.record({
      ...base,
      action: 'approval-requested',
      runbookId: proposed,
      why: `runbook ${proposed}`,
      at: step(7 * HOUR),
    });
    await audit.record({
      ...base,
      actor: 'U024BE7LH',
      action: 'approval',
      runbookId: approved,
      why: 'approved in Slack',
      at: step(HOUR),
    });
    await audit.record({
      ...base,
      action: 'verification',
      runbookId: approved,
      why: result === 'passed' ? 'the pods check passed' : 'verification failed: still CrashLoopBackOff',
      details: { result },
      at: step(HOUR),
    });
  };
  for (let i = 0; i < 6; i++) await flow(`a${i}`, 'pod-restart', 'pod-restart', 'passed');
  await flow('d0', 'disk-cleanup', 'disk-cleanup', 'passed');
  at = fleet.end - 3 * DAY;
  await flow('d1', 'disk-cleanup', 'disk-cleanup', 'failed');
}
