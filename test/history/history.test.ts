import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { EventBus } from '../../src/events/event-bus.js';
import type { IncidentEvent } from '../../src/events/incident-event.js';
import { type Finding, makeFinding } from '../../src/findings/finding.js';
import { IncidentHistory } from '../../src/history/incident-history.js';
import { metricHistory, recordSweep } from '../../src/history/record-sweep.js';
import type { Incident } from '../../src/incidents/incident.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { processSweep } from '../../src/runtime/sweep-processor.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startHttpServer, type TestHttpServer } from '../helpers/http-server.js';
import { connect, dropPrefix, uniquePrefix } from '../helpers/redis.js';

const DAY = 86_400_000;
const config = configSchema.parse({});

describe('metric history in Redis', () => {
  let redis: Redis;
  let prefix: string;
  let server: TestHttpServer | undefined;

  beforeEach(() => {
    redis = connect();
    prefix = uniquePrefix('history');
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('every sweep a worker processes records its targets (the hook in processSweep)', async () => {
    server = await startHttpServer((_req, res) => res.writeHead(200).end('ok'));
    const cfg = configSchema.parse({
      checks: { http: [{ name: 'svc', url: `${server.url}/health`, retries: 0 }] },
    });
    const clock = new FakeClock('2026-11-28T03:10:00Z');
    const store = new IncidentStore(redis, prefix);
    for (let i = 0; i < 3; i++) {
      await processSweep(
        { trigger: 'test' },
        {
          config: cfg,
          clock,
          tracker: new IncidentTracker(store, clock),
          bus: new EventBus(redis, prefix),
          redis,
          prefix,
          latencyHints: new Map(),
        },
      );
      clock.advance(15 * 60_000);
    }
    const history = metricHistory(redis, prefix, cfg);
    expect((await history.series()).map((s) => s.id).sort()).toEqual(['http-latency:svc', 'http-up:svc']);
    const buckets = await history.buckets(
      ['http-up:svc', 'http-latency:svc'],
      Date.parse('2026-11-28T03:00:00Z'),
      Date.parse('2026-11-28T04:00:00Z'),
    );
    expect(buckets.get('http-up:svc')).toEqual([
      { start: Date.parse('2026-11-28T03:00:00Z'), n: 3, sum: 3, max: 1, last: 1 },
    ]);
    const latency = buckets.get('http-latency:svc')![0]!;
    expect(latency.n).toBe(3);
    expect(latency.sum).toBeGreaterThanOrEqual(0);
  });

  it('keeps one hourly bucket per series (count, sum, max, last) and a day hash that expires with the retention', async () => {
    const cfg = configSchema.parse({
      history: { retention: '10d' },
      hosts: { h: { local: true } },
      checks: { disk: [{ host: 'h' }] },
    });
    const at = (iso: string) => new Date(iso);
    const disk = (used: number, when: string) =>
      makeFinding(
        {
          check: 'disk',
          target: 'h:/',
          condition: 'ok',
          severity: 'ok',
          summary: '',
          facts: { host: 'h', mount: '/', usedPercent: used },
        },
        at(when),
      );
    await recordSweep(redis, prefix, cfg, [disk(50, '2026-11-28T05:00:00Z')], at('2026-11-28T05:00:00Z'));
    await recordSweep(redis, prefix, cfg, [disk(54, '2026-11-28T05:15:00Z')], at('2026-11-28T05:15:00Z'));
    await recordSweep(redis, prefix, cfg, [disk(52, '2026-11-28T05:45:00Z')], at('2026-11-28T05:45:00Z'));
    await recordSweep(redis, prefix, cfg, [disk(60, '2026-11-28T06:00:00Z')], at('2026-11-28T06:00:00Z'));
    const history = metricHistory(redis, prefix, cfg);
    const buckets = (
      await history.buckets(
        ['disk-used:h%3A%2F'],
        Date.parse('2026-11-28T00:00:00Z'),
        Date.parse('2026-11-29T00:00:00Z'),
      )
    ).get('disk-used:h%3A%2F');
    expect(buckets).toEqual([
      { start: Date.parse('2026-11-28T05:00:00Z'), n: 3, sum: 156, max: 54, last: 52 },
      { start: Date.parse('2026-11-28T06:00:00Z'), n: 1, sum: 60, max: 60, last: 60 },
    ]);
    const [key] = await redis.keys(`${prefix}:history:m:disk-used:*`);
    expect(key).toBe(`${prefix}:history:m:disk-used:h%3A%2F:20261128`);
    // The day ends at midnight UTC; its hash lives 10 days past that: 18h + 10d after the last sample.
    const ttl = await redis.pttl(key!);
    expect(ttl).toBeGreaterThan(10 * DAY + 17.9 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(10 * DAY + 18 * 3_600_000);
    expect(await redis.hlen(key!)).toBe(2);

    // A series not seen within the retention is forgotten by trim.
    expect(await history.trim(new Date(Date.parse('2026-11-28T06:00:00Z') + 9 * DAY))).toBe(0);
    expect(await history.trim(new Date(Date.parse('2026-11-28T06:00:00Z') + 10 * DAY + 1))).toBe(1);
    expect(await history.series()).toEqual([]);
  });

  it('counts container restarts once each, across sweeps and across midnight', async () => {
    const pod = (condition: string, restartCount: number, when: string, extra: Record<string, number> = {}) =>
      makeFinding(
        {
          check: 'pods',
          target: 'apps/web-1',
          condition,
          severity: condition === 'ok' ? 'ok' : 'warning',
          summary: '',
          facts: {
            cluster: 'lab',
            namespace: 'apps',
            pod: 'web-1',
            ownerName: 'web',
            ownerKind: 'Deployment',
            container: 'app',
            restartCount,
            lastTerminationReason: condition === 'OOMKilled' ? 'OOMKilled' : 'Error',
            ...extra,
          },
        },
        new Date(when),
      );
    const sweeps: [Finding, string][] = [
      // First sight of a crash loop: counted from now on.
      [pod('CrashLoopBackOff', 7, '2026-11-27T23:00:00Z'), '2026-11-27T23:00:00Z'],
      [pod('CrashLoopBackOff', 9, '2026-11-27T23:30:00Z'), '2026-11-27T23:30:00Z'],
      // After midnight UTC, yesterday's count is still the baseline.
      [pod('restarting', 10, '2026-11-28T00:15:00Z', { previousRestartCount: 9 }), '2026-11-28T00:15:00Z'],
      [pod('OOMKilled', 11, '2026-11-28T00:30:00Z'), '2026-11-28T00:30:00Z'],
      // The same kill seen again by the next sweep is not a new restart.
      [pod('OOMKilled', 11, '2026-11-28T00:45:00Z'), '2026-11-28T00:45:00Z'],
    ];
    for (const [finding, when] of sweeps) await recordSweep(redis, prefix, config, [finding], new Date(when));
    const history = metricHistory(redis, prefix, config);
    const read = await history.buckets(
      ['restarts:lab%2Fapps%2Fweb', 'oom-kills:lab%2Fapps%2Fweb'],
      Date.parse('2026-11-27T00:00:00Z'),
      Date.parse('2026-11-29T00:00:00Z'),
    );
    const total = (id: string) => read.get(id)!.reduce((a, b) => a + b.sum, 0);
    expect(total('restarts:lab%2Fapps%2Fweb')).toBe(2 + 1 + 1);
    expect(total('oom-kills:lab%2Fapps%2Fweb')).toBe(1);
    const [restarts] = (await history.series()).filter((s) => s.meta.kind === 'restarts');
    expect(restarts!.meta).toEqual({
      kind: 'restarts',
      target: 'lab/apps/web',
      labels: { cluster: 'lab', namespace: 'apps', workload: 'web', ownerKind: 'Deployment' },
    });
  });
});

describe('incident history', () => {
  let redis: Redis;
  let prefix: string;

  beforeEach(() => {
    redis = connect();
    prefix = uniquePrefix('inc-history');
  });
  afterEach(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  const incident: Incident = {
    id: '7',
    fingerprint: 'abc',
    check: 'http',
    target: 'api',
    condition: 'timeout',
    state: 'resolved',
    severity: 'critical',
    summary: 'timeout',
    facts: {},
    openedAt: '2026-11-28T01:00:00.000Z',
    updatedAt: '2026-11-28T01:30:00.000Z',
    lastSeenAt: '2026-11-28T01:00:00.000Z',
    occurrences: 2,
    openingsInWindow: 1,
    flapping: false,
    durationMs: 1_800_000,
    history: [
      { at: '2026-11-28T01:00:00.000Z', state: 'open' },
      { at: '2026-11-28T01:10:00.000Z', state: 'executing', by: 'reef' },
      { at: '2026-11-28T01:30:00.000Z', state: 'resolved', by: 'reef' },
    ],
  };

  it('keeps one compact entry per event, once even when delivered twice, and drops what is older than the retention', async () => {
    const history = new IncidentHistory(redis, prefix, 10 * DAY);
    const resolved: IncidentEvent = { type: 'resolved', incident, at: '2026-11-28T01:30:00.000Z' };
    expect(await history.record(resolved)).toBe(true);
    expect(await history.record(resolved)).toBe(true);
    expect(await history.record({ type: 'step', incident, at: '2026-11-28T01:20:00.000Z', note: 'ok' })).toBe(
      false,
    );
    expect(await history.read(0, Date.parse('2026-11-29T00:00:00Z'))).toEqual([
      {
        type: 'resolved',
        at: Date.parse('2026-11-28T01:30:00Z'),
        id: '7',
        fingerprint: 'abc',
        check: 'http',
        target: 'api',
        condition: 'timeout',
        severity: 'critical',
        durationMs: 1_800_000,
        runBy: 'reef',
      },
    ]);
    await history.record({
      type: 'opened',
      incident: { ...incident, id: '8' },
      at: '2026-12-09T00:00:00.000Z',
    });
    const all = await history.read(0, Date.parse('2027-01-01T00:00:00Z'));
    expect(all.map((e) => e.id)).toEqual(['8']);
  });
});
