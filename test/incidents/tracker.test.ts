import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProbeOutcome } from '../../src/checks/sweep.js';
import { configSchema, type ReefConfig } from '../../src/config/schema.js';
import { type Finding, makeFinding, type Severity } from '../../src/findings/finding.js';
import { transition } from '../../src/incidents/incident.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { connect, dropPrefix, uniquePrefix } from '../helpers/redis.js';

const MIN = 60_000;

describe('incident tracker (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let clock: FakeClock;
  let store: IncidentStore;
  let tracker: IncidentTracker;
  const config: ReefConfig = configSchema.parse({
    checks: {
      http: [
        { name: 'api', url: 'http://127.0.0.1:1/' },
        { name: 'web', url: 'http://127.0.0.1:2/' },
      ],
    },
  });

  beforeEach(() => {
    redis = connect();
    prefix = uniquePrefix('inc');
    clock = new FakeClock();
    store = new IncidentStore(redis, prefix);
    tracker = new IncidentTracker(store, clock);
  });
  afterEach(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  const finding = (
    target: string,
    condition: string,
    severity: Severity,
    summary = `${condition} on ${target}`,
  ): Finding =>
    makeFinding({ check: 'http', target, condition, severity, summary, facts: { status: 503 } }, clock.now());
  const ok = (target: string) => finding(target, 'ok', 'ok');
  /** One outcome per target, as the sweep produces for http probes. */
  const outcomes = (findings: Finding[]): ProbeOutcome[] => {
    const byTarget = new Map<string, Finding[]>();
    for (const f of findings) byTarget.set(f.target, [...(byTarget.get(f.target) ?? []), f]);
    return [...byTarget].map(([target, fs]) => ({
      status: fs.every((f) => f.severity === 'ok') ? 'ok' : 'anomaly',
      check: 'http',
      target,
      findings: fs,
    }));
  };
  const sweep = (...findings: Finding[]) =>
    tracker.ingest({ outcomes: outcomes(findings), only: null }, config);

  it('opens an incident once, updates it quietly, and resolves it with its duration', async () => {
    const opened = await sweep(finding('api', 'bad-status', 'critical'), ok('web'));
    expect(opened.map((e) => e.type)).toEqual(['opened']);
    const incident = opened[0]!.incident;
    expect(incident).toMatchObject({
      id: '1',
      state: 'open',
      target: 'api',
      condition: 'bad-status',
      occurrences: 1,
    });

    clock.advance(15 * MIN);
    expect(await sweep(finding('api', 'bad-status', 'critical', 'still down'), ok('web'))).toEqual([]);
    const updated = await store.get(incident.id);
    expect(updated).toMatchObject({ occurrences: 2, summary: 'still down', state: 'open' });

    clock.advance(15 * MIN);
    const resolved = await sweep(ok('api'), ok('web'));
    expect(resolved.map((e) => e.type)).toEqual(['resolved']);
    expect(resolved[0]!.incident).toMatchObject({ state: 'resolved', durationMs: 30 * MIN });
    expect(await store.currentFor(incident.fingerprint)).toBeUndefined();
    expect(await store.active()).toEqual([]);
  });

  it('announces again only when the problem worsens', async () => {
    await sweep(finding('api', 'slow', 'warning'));
    clock.advance(MIN);
    const events = await sweep(finding('api', 'slow', 'critical'));
    expect(events.map((e) => [e.type, e.note])).toEqual([['worsened', 'warning → critical']]);
    clock.advance(MIN);
    expect(await sweep(finding('api', 'slow', 'warning'))).toEqual([]);
  });

  it('a different condition on the same target is a separate incident; both resolve when healthy', async () => {
    const events = await sweep(
      finding('api', 'timeout', 'critical'),
      finding('api', 'body-mismatch', 'critical'),
    );
    expect(events.map((e) => e.incident.condition).sort()).toEqual(['body-mismatch', 'timeout']);
    const resolved = await sweep(ok('api'));
    expect(resolved.map((e) => e.type)).toEqual(['resolved', 'resolved']);
  });

  it('a condition that changes resolves the old incident and opens a new one', async () => {
    await sweep(finding('api', 'timeout', 'critical'));
    const events = await sweep(finding('api', 'bad-status', 'critical'));
    expect(events.map((e) => `${e.type}:${e.incident.condition}`)).toEqual([
      'opened:bad-status',
      'resolved:timeout',
    ]);
  });

  it('a target with a check error keeps its incident open', async () => {
    await sweep(finding('api', 'bad-status', 'critical'));
    const events = await tracker.ingest(
      {
        outcomes: [
          { status: 'error', check: 'http', target: 'api', error: 'boom' },
          ...outcomes([ok('web')]),
        ],
        only: null,
      },
      config,
    );
    expect(events).toEqual([]);
    expect((await store.active()).map((i) => i.target)).toEqual(['api']);
  });

  it('a target removed from the config resolves on a full sweep, not on a partial one', async () => {
    await sweep(finding('gone', 'bad-status', 'critical'));
    expect(await tracker.ingest({ outcomes: outcomes([ok('api')]), only: 'api' }, config)).toEqual([]);
    const events = await sweep(ok('api'));
    expect(events.map((e) => [e.type, e.note])).toEqual([['resolved', 'target no longer configured']]);
  });

  it('a flapping target is reported once, then stays quiet for the window', async () => {
    const types: string[][] = [];
    for (let cycle = 0; cycle < 5; cycle++) {
      types.push((await sweep(finding('api', 'bad-status', 'critical'))).map((e) => e.type));
      clock.advance(15 * MIN);
      types.push((await sweep(ok('api'))).map((e) => e.type));
      clock.advance(15 * MIN);
    }
    expect(types).toEqual([
      ['opened'],
      ['resolved'],
      ['opened'],
      ['resolved'],
      ['flapping'],
      [],
      [],
      [],
      [],
      [],
    ]);
    const last = (await store.list({ limit: 1 }))[0]!;
    expect(last).toMatchObject({ flapping: true, openingsInWindow: 5 });

    // A day later the window has passed: a new opening pages normally again.
    clock.advance(25 * 60 * MIN);
    expect((await sweep(finding('api', 'bad-status', 'critical'))).map((e) => e.type)).toEqual(['opened']);
  });

  it('a dismissed incident stays quiet while the problem lasts and releases its fingerprint on recovery', async () => {
    const [opened] = await sweep(finding('api', 'bad-status', 'critical'));
    const dismissed = transition(opened!.incident, 'dismissed', clock.now(), { by: 'cli:alice' });
    await store.save(dismissed);
    expect(await sweep(finding('api', 'bad-status', 'critical'))).toEqual([]);
    expect((await store.get(dismissed.id))!.occurrences).toBe(2);
    expect(await sweep(ok('api'))).toEqual([]);
    expect((await store.get(dismissed.id))!.recoveredAt).toBeDefined();
    const again = await sweep(finding('api', 'bad-status', 'critical'));
    expect(again.map((e) => [e.type, e.incident.id])).toEqual([['opened', '2']]);
  });

  it('a finding observed before its incident closed (a slow sweep racing a watch event) does not re-open it', async () => {
    const stale = finding('api', 'bad-status', 'critical');
    clock.advance(MIN);
    const [opened] = await sweep(finding('api', 'bad-status', 'critical'));
    clock.advance(MIN);
    const [resolved] = await sweep(ok('api'));
    expect(resolved).toMatchObject({ type: 'resolved', incident: { id: opened!.incident.id } });
    // Probed before the resolution, ingested after it: old news.
    expect(await sweep(stale)).toEqual([]);
    expect(await store.active()).toEqual([]);
    // Observed after it: a new problem.
    clock.advance(MIN);
    const again = await sweep(finding('api', 'bad-status', 'critical'));
    expect(again.map((e) => e.type)).toEqual(['opened']);
  });

  it('concurrent sweeps (two workers) seeing the same problem create one incident', async () => {
    const otherRedis = connect();
    const other = new IncidentTracker(new IncidentStore(otherRedis, prefix), clock);
    const f = finding('api', 'bad-status', 'critical');
    const [a, b] = await Promise.all([
      tracker.ingest({ outcomes: outcomes([f]), only: null }, config),
      other.ingest({ outcomes: outcomes([f]), only: null }, config),
    ]);
    expect([...a, ...b].map((e) => e.type)).toEqual(['opened']);
    expect(await store.active()).toHaveLength(1);
    expect((await store.active())[0]!.occurrences).toBe(2);
    otherRedis.disconnect();
  });

  it('a probe with many targets (a cluster) resolves incidents of targets it no longer sees as gone', async () => {
    const pod = (target: string, severity: Severity) =>
      makeFinding(
        {
          check: 'http',
          target,
          condition: severity === 'ok' ? 'ok' : 'CrashLoopBackOff',
          severity,
          summary: '',
          facts: {},
        },
        clock.now(),
      );
    const cluster = (findings: Finding[], covers?: string[]): ProbeOutcome[] => [
      { status: 'anomaly', check: 'http', target: 'api', findings, ...(covers ? { covers } : {}) },
    ];
    await tracker.ingest(
      {
        outcomes: cluster([pod('apps/a', 'critical'), pod('apps/b', 'critical'), pod('apps/c', 'critical')]),
        only: null,
      },
      config,
    );
    // A watch event about one pod speaks for that pod only.
    const watch = await tracker.ingest(
      { outcomes: cluster([pod('apps/a', 'ok')], ['apps/a']), only: 'api' },
      config,
    );
    expect(watch.map((e) => [e.type, e.incident.target, e.note])).toEqual([
      ['resolved', 'apps/a', 'target healthy again'],
    ]);
    // A full listing where b is gone and c still crashes.
    const full = await tracker.ingest({ outcomes: cluster([pod('apps/c', 'critical')]), only: null }, config);
    expect(full.map((e) => [e.type, e.incident.target, e.note])).toEqual([
      ['resolved', 'apps/b', 'target gone'],
    ]);
    expect((await store.active()).map((i) => [i.target, i.probe])).toEqual([['apps/c', 'api']]);
  });

  it('finds incidents by number, #number or fingerprint prefix, and explains a miss', async () => {
    const [opened] = await sweep(finding('api', 'bad-status', 'critical'));
    expect((await store.find('1')).id).toBe('1');
    expect((await store.find('#1')).id).toBe('1');
    expect((await store.find(opened!.incident.fingerprint.slice(0, 8))).id).toBe('1');
    await expect(store.find('99')).rejects.toMatchObject({ code: 'reef_incident_not_found' });
  });

  it('refuses lifecycle moves that DESIGN.md does not allow', () => {
    const base = {
      id: '1',
      fingerprint: 'f',
      check: 'http' as const,
      target: 'a',
      condition: 'c',
      state: 'resolved' as const,
      severity: 'critical' as const,
      summary: '',
      facts: {},
      openedAt: clock.now().toISOString(),
      updatedAt: clock.now().toISOString(),
      lastSeenAt: clock.now().toISOString(),
      occurrences: 1,
      openingsInWindow: 1,
      flapping: false,
      history: [],
    };
    expect(() => transition(base, 'dismissed', clock.now())).toThrow(
      /is resolved; it cannot become dismissed/,
    );
    expect(() => transition({ ...base, state: 'verifying' }, 'dismissed', clock.now())).toThrow(
      /cannot become dismissed/,
    );
    expect(transition({ ...base, state: 'open' }, 'awaiting-approval', clock.now()).state).toBe(
      'awaiting-approval',
    );
  });
});
