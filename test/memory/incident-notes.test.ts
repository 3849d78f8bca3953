import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { memorySchema } from '../../src/config/memory-schema.js';
import { EventBus } from '../../src/events/event-bus.js';
import type { IncidentEvent } from '../../src/events/incident-event.js';
import { makeFinding } from '../../src/findings/finding.js';
import { IncidentHistory } from '../../src/history/incident-history.js';
import { type Incident, transition } from '../../src/incidents/incident.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { consumeForMemory } from '../../src/memory/memory-consumer.js';
import { MemoryRepo } from '../../src/memory/memory-repo.js';
import { NoticeBus } from '../../src/memory/notices.js';
import { ConsoleSurface } from '../../src/surfaces/console.js';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { connect, dropPrefix, uniquePrefix } from '../helpers/redis.js';
import { SECRET_CORPUS } from '../secrets/corpus.js';

const DAY = 86_400_000;

describe('incident notes from the event stream (consumer group "memory")', () => {
  let redis: Redis;
  let blocking: Redis[];
  let prefix: string;
  let dir: string;
  const clock = new FakeClock('2026-11-28T03:00:00Z');

  beforeEach(() => {
    redis = connect();
    blocking = [];
    prefix = uniquePrefix('notes');
    dir = mkdtempSync(path.join(tmpdir(), 'reef-notes-'));
  });
  afterEach(async () => {
    for (const b of blocking) b.disconnect();
    await dropPrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const blockingConnection = () => {
    const b = connect();
    blocking.push(b);
    return b;
  };

  function incident(): Incident {
    const finding = makeFinding(
      {
        check: 'errorLogs',
        target: 'api-log',
        condition: 'error-spike',
        severity: 'warning',
        summary: '52 matches in the last 1h, 5.2× the baseline of 10 per 1h',
        facts: { current: 52, samples: [SECRET_CORPUS.find((s) => s.kind === 'bearer header')!.line] },
      },
      clock.now(),
    );
    return {
      id: '42',
      fingerprint: finding.fingerprint,
      check: finding.check,
      target: finding.target,
      condition: finding.condition,
      state: 'open',
      severity: finding.severity,
      summary: finding.summary,
      facts: finding.facts,
      openedAt: '2026-11-28T02:00:00.000Z',
      updatedAt: '2026-11-28T02:00:00.000Z',
      lastSeenAt: '2026-11-28T02:00:00.000Z',
      occurrences: 1,
      openingsInWindow: 1,
      flapping: false,
      history: [{ at: '2026-11-28T02:00:00.000Z', state: 'open' }],
    };
  }

  it('writes one redacted note per escalated or resolved incident, records every event, and leaves the surfaces their own copy', async () => {
    const store = new IncidentStore(redis, prefix);
    const bus = new EventBus(redis, prefix);
    const audit = new AuditLog(redis, prefix, { clock });
    const incidents = new IncidentHistory(redis, prefix, 35 * DAY);
    const memory = new MemoryRepo({
      dir: path.join(dir, 'memory'),
      quarantineDir: path.join(dir, 'quarantine'),
      config: memorySchema.parse({}),
      clock,
      audit,
      notices: new NoticeBus(redis, prefix),
    });
    const opened = incident();
    const escalated = transition(opened, 'escalated', new Date('2026-11-28T02:05:00Z'), {
      by: 'reef',
      note: 'no runbook matches errorLogs/error-spike',
    });
    await audit.record({
      actor: 'reef',
      action: 'escalation',
      incidentId: '42',
      why: 'no runbook matches errorLogs/error-spike',
      at: '2026-11-28T02:05:00Z',
    });
    await store.save(escalated);
    const events: IncidentEvent[] = [
      { type: 'opened', incident: opened, at: opened.openedAt },
      { type: 'escalated', incident: escalated, at: escalated.updatedAt, note: 'no runbook' },
    ];
    await bus.publish(events);

    const controller = new AbortController();
    const errors: string[] = [];
    const memoryDone = consumeForMemory(
      { bus, incidents, store, audit, memory, timezone: 'Europe/Berlin' },
      blockingConnection(),
      controller.signal,
      (m) => void errors.push(m),
    );
    const seenBySurface: IncidentEvent[] = [];
    const surfaceDone = bus.consume(
      blockingConnection(),
      async (e) => void seenBySurface.push(e),
      controller.signal,
    );
    const note = path.join(dir, 'memory', 'incidents', '2026-11-28-42-errorlogs-api-log-error-spike.md');
    const text = await eventually('the incident note', async () => {
      try {
        return readFileSync(note, 'utf8');
      } catch {
        return undefined;
      }
    });
    await eventually('the surfaces to see both events', async () => seenBySurface.length === 2);

    // It resolves later: the same note is rewritten with the outcome.
    const resolved = transition(escalated, 'resolved', new Date('2026-11-28T02:35:00Z'), {
      by: 'reef',
      note: 'target healthy again',
    });
    await store.save(resolved, { releaseFingerprint: true });
    await bus.publish([
      { type: 'resolved', incident: resolved, at: resolved.updatedAt, note: 'target healthy again' },
    ]);
    await eventually('the resolved note', async () => readFileSync(note, 'utf8').includes('— resolved'));
    controller.abort();
    await Promise.all([memoryDone, surfaceDone]);
    expect(errors).toEqual([]);

    expect(text).toContain('# Incident #42: errorLogs/api-log error-spike — escalated');
    expect(text).toContain('| opened | 2026-11-28 03:00:00 CET |');
    expect(text).toContain(
      '- 2026-11-28 03:05:00 CET **escalated** by reef — no runbook matches errorLogs/error-spike',
    );
    expect(text).toContain('escalation by reef: no runbook matches errorLogs/error-spike');
    // The log sample carried a bearer token: the note holds it redacted, so the guard let it in.
    const bearer = SECRET_CORPUS.find((s) => s.kind === 'bearer header')!;
    expect(text).not.toContain(bearer.secret);
    expect(text).toContain('[REDACTED:');
    const repo = path.join(dir, 'memory');
    const log = execFileSync('git', ['-C', repo, 'log', '--format=%s'], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(log).toEqual([
      'Update the index',
      'Incident #42 resolved: errorLogs/api-log error-spike',
      'Update the index',
      'Incident #42 escalated: errorLogs/api-log error-spike',
      'Reef memory',
    ]);
    expect(readFileSync(path.join(repo, 'index.md'), 'utf8')).toContain(
      '- [Incident #42: errorLogs/api-log error-spike — resolved](incidents/2026-11-28-42-errorlogs-api-log-error-spike.md)',
    );
    const recorded = await incidents.read(0, Date.parse('2026-11-29T00:00:00Z'));
    expect(recorded.map((e) => e.type)).toEqual(['opened', 'escalated', 'resolved']);
    expect(recorded[2]!.durationMs).toBe(35 * 60_000);
  });

  it('delivers digests and alerts to a surface: the console prints the digest in full', async () => {
    const notices = new NoticeBus(redis, prefix);
    await notices.publish({
      kind: 'digest',
      digest: {
        title: 'Nightly Brainstorm — 2026-11-28',
        summary: 'Last 24 h: 2 incidents opened.',
        markdown: '# Nightly Brainstorm — 2026-11-28\n\n## Summary\n',
        path: 'brainstorm/2026-11-28.md',
      },
    });
    await notices.publish({
      kind: 'alert',
      text: 'Memory commit blocked: incidents/x.md held a secret',
      at: clock.now().toISOString(),
    });
    const out = new PassThrough();
    let printed = '';
    out.on('data', (d) => (printed += d));
    const controller = new AbortController();
    const done = notices.deliver(
      blockingConnection(),
      new ConsoleSurface(out, 'Europe/Berlin', false),
      controller.signal,
    );
    await eventually('both notices printed', async () => printed.includes('Memory commit blocked'));
    controller.abort();
    await done;
    expect(printed).toContain(
      'Nightly Brainstorm — 2026-11-28\nLast 24 h: 2 incidents opened.\nReport in memory: brainstorm/2026-11-28.md',
    );
    expect(printed).toContain('## Summary');
    expect(printed.indexOf('Nightly Brainstorm')).toBeLessThan(printed.indexOf('Memory commit blocked'));
    // Delivered once: a second surface process sees nothing left.
    const again: string[] = [];
    const second = new AbortController();
    const secondDone = notices.deliver(
      blockingConnection(),
      { name: 'spy', notify: async () => {}, say: async (t) => void again.push(t) },
      second.signal,
    );
    await new Promise((r) => setTimeout(r, 300));
    second.abort();
    await secondDone;
    expect(again).toEqual([]);
  });
});
